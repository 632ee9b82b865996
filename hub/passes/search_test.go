package passes

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

func TestIssueFormRequest(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC) // 04:00 on 2 March in CST
	req, err := IssueForm{Site: "huamu-1", Unit: " 3-502 ", Name: "王小明"}.Request(now, cst)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 2, 0, 0, 0, 0, cst); !req.ValidFrom.Equal(want) || !req.ValidUntil.Equal(want.AddDate(0, 6, 0)) ||
		req.Kind != protocol.PassResident || req.Unit != "3-502" {
		t.Errorf("defaults: %+v", req)
	}
	req, err = IssueForm{Kind: "Volunteer", Site: "huamu-1", From: "2026-03-05", Until: "2026-03-05"}.Request(now, cst)
	if err != nil || !req.ValidUntil.Equal(time.Date(2026, 3, 6, 0, 0, 0, 0, cst)) || req.Kind != protocol.PassVolunteer {
		t.Errorf("one-day volunteer pass = %+v, %v", req, err)
	}
	for _, tc := range []struct {
		form  IssueForm
		field string
	}{
		{IssueForm{Site: "huamu 1", Unit: "3-502"}, "site"},
		{IssueForm{Site: "", Unit: "3-502"}, "site"},
		{IssueForm{Site: "huamu-1"}, "unit"},
		{IssueForm{Site: "huamu-1", Unit: strings.Repeat("3", 40)}, "unit"},
		{IssueForm{Site: "huamu-1", Unit: "3-502", Kind: "visitor"}, "kind"},
		{IssueForm{Site: "huamu-1", Unit: "3-502", From: "2026/03/05"}, "from"},
		{IssueForm{Site: "huamu-1", Unit: "3-502", Until: "tomorrow"}, "until"},
		{IssueForm{Site: "huamu-1", Unit: "3-502", From: "2026-03-05", Until: "2026-03-04"}, "until"},
		{IssueForm{Site: "huamu-1", Unit: "3-502", Name: "王\x00明"}, "name"},
	} {
		_, err := tc.form.Request(now, cst)
		fe, ok := AsFieldError(err)
		if !ok || fe.Field != tc.field || !errors.Is(err, ErrBadRequest) {
			t.Errorf("%+v.Request() = %v, want a field error on %s", tc.form, err, tc.field)
		}
	}
}

func TestParseCSVNamesLineAndColumn(t *testing.T) {
	def := request("", "")
	for _, tc := range []struct {
		csv, want string
	}{
		{"unit,name\n3-1,王\n,李明\n", "CSV line 3: unit: a resident pass needs a unit"},
		{"unit,name,valid_until\n3-1,王,2026-13-01\n", "CSV line 2: valid_until:"},
		{"unit,name,site\n3-1,王,huamu 2\n", "CSV line 2: site:"},
		{"unit,name\n", "no rows"},
		{"unit,name,valid_from,valid_until\n3-1,王,2026-07-01,2026-06-30\n", "CSV line 2: valid_until: the last valid day (2026-06-30) is before the first (2026-07-01)"},
		{"unit,name,note\n3-1,王,\"two\nlines\"\n,李明,x\n", "CSV line 4: unit:"},
	} {
		_, err := ParseCSV(strings.NewReader(tc.csv), def, time.UTC)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrBadRequest) {
			t.Errorf("ParseCSV(%q) = %v, want %q", tc.csv, err, tc.want)
		}
	}
}

func TestSearchByState(t *testing.T) { eachEngine(t, testSearchByState) }

func testSearchByState(t *testing.T, e testEngine) {
	s, c, _ := e.open(t)
	ctx := context.Background()
	if ok, err := s.HasKey(ctx); ok || err != nil {
		t.Fatalf("HasKey before init = %v, %v", ok, err)
	}
	s.InitKey(ctx)
	if ok, err := s.HasKey(ctx); !ok || err != nil {
		t.Fatalf("HasKey after init = %v, %v", ok, err)
	}
	ids := map[State]string{}
	for _, st := range []State{StateValid, StateRevoked, StateHomeObservation, StateExpired, "observation_over"} {
		req := request("3-50"+string(rune('1'+len(ids))), "王小明")
		if st == StateExpired {
			req.ValidFrom, req.ValidUntil = t0.AddDate(0, -2, 0), t0.AddDate(0, 0, -1)
		}
		p, err := s.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		ids[st] = p.ID
	}
	other := request("9-901", "李明")
	other.Site = "huamu-2"
	if _, err := s.Issue(ctx, other); err != nil {
		t.Fatal(err)
	}
	s.Revoke(ctx, ids[StateRevoked], "reported lost")
	s.HomeObservation(ctx, ids[StateHomeObservation], t0.AddDate(0, 0, 14), "")
	s.HomeObservation(ctx, ids["observation_over"], t0.Add(time.Hour), "")
	c.Set(t0.Add(2 * time.Hour)) // the second observation has ended
	now := c.Now()
	for _, tc := range []struct {
		q    Query
		want []string
	}{
		{Query{Site: "huamu-1", State: StateRevoked}, []string{ids[StateRevoked]}},
		{Query{Site: "huamu-1", State: StateHomeObservation}, []string{ids[StateHomeObservation]}},
		{Query{Site: "huamu-1", State: StateExpired}, []string{ids[StateExpired]}},
		{Query{Site: "huamu-1", State: StateValid}, []string{ids[StateValid], ids["observation_over"]}},
		{Query{Site: "huamu-1", Unit: "3-501"}, []string{ids[StateValid]}},
	} {
		tc.q.Now = now
		page, err := s.Search(ctx, tc.q, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range page.Passes {
			got = append(got, p.ID)
			if tc.q.State != "" && p.State(now) != tc.q.State {
				t.Errorf("pass %s listed as %s has State %s", p.ID, tc.q.State, p.State(now))
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Search(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	all, _ := s.Search(ctx, Query{Now: now}, 0, 4)
	next, _ := s.Search(ctx, Query{Now: now}, 1, 4)
	if len(all.Passes) != 4 || !all.More || len(next.Passes) != 2 || next.More {
		t.Errorf("pages of 4: %d more=%v, then %d more=%v", len(all.Passes), all.More, len(next.Passes), next.More)
	}
	if _, err := s.Search(ctx, Query{State: "lost"}, 0, 4); !errors.Is(err, ErrBadRequest) {
		t.Errorf("Search(state lost) = %v", err)
	}
	if p, err := s.Get(ctx, ids[StateRevoked]); err != nil || p.Reason != "reported lost" || p.Token == "" {
		t.Errorf("Get = %+v, %v", p, err)
	}
	if _, err := s.Get(ctx, "R0000000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) = %v", err)
	}
}
