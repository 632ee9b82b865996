package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/protocol"
)

// site is the compound the demo's kiosks guard.
const site = "huamu-1"

// demoPasses makes sure the hub has a signing key and passes for the demo
// compound's residents, one of them revoked and one under home
// observation, and returns their tokens for the simulated scanners. A
// second run reuses what the first issued.
func demoPasses(ctx context.Context, hubData string) ([]string, error) {
	st, err := datadir.Dir{Path: hubData}.OpenPasses()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if _, err := st.InitKey(ctx); err != nil && !errors.Is(err, passes.ErrKeyExists) {
		return nil, err
	}
	list, err := st.List(ctx, passes.Filter{Site: site})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		names := []string{"王小明", "李秀英", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周芳", "吴军", "徐丽", "孙涛"}
		now := time.Now()
		for b := 1; b <= 6; b++ {
			for r := 1; r <= 4; r++ {
				p, err := st.Issue(ctx, passes.Request{
					Kind: protocol.PassResident, Site: site, Unit: fmt.Sprintf("%d-%d02", b, r),
					Name: names[(b*4+r)%len(names)], ValidFrom: now.Add(-time.Hour), ValidUntil: now.AddDate(0, 3, 0),
				})
				if err != nil {
					return nil, err
				}
				list = append(list, p)
			}
		}
		if err := st.Revoke(ctx, list[3].ID, "reported lost"); err != nil {
			return nil, err
		}
		if err := st.HomeObservation(ctx, list[9].ID, now.AddDate(0, 0, 14), "returned from a key region"); err != nil {
			return nil, err
		}
	}
	tokens := make([]string, len(list))
	for i, p := range list {
		tokens[i] = p.Token
	}
	return tokens, nil
}
