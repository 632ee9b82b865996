package doctor

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	var r Report
	r.OK("disk", "9 GiB free")
	if r.Failed() {
		t.Fatal("Failed() with only OK lines")
	}
	r.Warn("sync", "3 unsynced", "检查网络", "check the network")
	if r.Failed() {
		t.Fatal("Failed() with a WARN and no FAIL")
	}
	r.Fail("broker", "refused", "重新登记", "enroll again")
	if !r.Failed() {
		t.Fatal("Failed() = false with a FAIL")
	}
	var text bytes.Buffer
	if err := r.Print(&text, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"OK    disk", "WARN  sync", "FAIL  broker", "→ 重新登记", "→ enroll again"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "→ \n") {
		t.Errorf("an OK line has an empty fix:\n%s", text.String())
	}
	var js bytes.Buffer
	if err := r.Print(&js, true); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Lines) != 3 || back.Lines[2].FixEN != "enroll again" {
		t.Fatalf("JSON round trip = %+v, %v\n%s", back, err, js.String())
	}
	if l, ok := r.Find("sync"); !ok || l.Status != Warn {
		t.Errorf("Find(sync) = %+v, %v", l, ok)
	}
}
