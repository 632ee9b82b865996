package words

import (
	"slices"
	"testing"
)

func TestSentence(t *testing.T) {
	args := map[string]string{"name": "李*"}
	if got, want := Sentence("zh-CN", "say_shift_in", args), "李* 签到上岗。"; got != want {
		t.Errorf("Sentence(zh-CN) = %q, want %q", got, want)
	}
	if got, want := Both("say_shift_in", args), "李* 签到上岗。 李* signed in."; got != want {
		t.Errorf("Both = %q, want %q", got, want)
	}
}

// TestCatalogues holds every catalogue to the same keys, and each file to
// valid JSON.
func TestCatalogues(t *testing.T) {
	for _, lang := range Languages {
		if _, err := read(files, lang); err != nil {
			t.Fatal(err)
		}
	}
	zh := Catalogue("zh-CN")
	if len(zh) < 60 {
		t.Fatalf("zh-CN has only %d messages", len(zh))
	}
	for _, lang := range Languages[1:] {
		m := Catalogue(lang)
		for k := range zh {
			if m[k] == "" {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
		for k := range m {
			if zh[k] == "" {
				t.Errorf("zh-CN lacks %q (in %s)", k, lang)
			}
		}
	}
	if MessageIn("zh-CN", "no_such_key") != "no_such_key" {
		t.Error("a missing key is not shown as itself")
	}
}

// MissingKeys and UnevenPlaceholders pass keys every catalogue has with
// the same placeholders, and name each key a catalogue lacks or has
// blank, and each filled differently.
func TestCheckKeys(t *testing.T) {
	if got := MissingKeys([]string{"say_shift_in"}); got != nil {
		t.Errorf("MissingKeys(say_shift_in) = %q, want none", got)
	}
	if got := UnevenPlaceholders([]string{"say_shift_in"}); got != nil {
		t.Errorf("UnevenPlaceholders(say_shift_in) = %q, want none", got)
	}
	cats := map[string]map[string]string{
		"zh-CN": {"both": "{name} 到了 {gate}", "blank": "  ", "holes": "{name} 到了", "only_zh": "有"},
		"en":    {"both": "{gate}: {name} came, {name}", "blank": "x", "holes": "{who} came"},
	}
	keys := []string{"both", "blank", "holes", "only_zh", "nowhere"}
	want := []string{"catalogue zh-CN lacks blank", "catalogue en lacks only_zh", "catalogue zh-CN lacks nowhere", "catalogue en lacks nowhere"}
	if got := missingKeys(cats, keys); !slices.Equal(got, want) {
		t.Errorf("missingKeys = %q, want %q", got, want)
	}
	want = []string{`holes: placeholders "{name}" in zh-CN, "{who}" in en`}
	if got := unevenPlaceholders(cats, keys); !slices.Equal(got, want) {
		t.Errorf("unevenPlaceholders = %q, want %q", got, want)
	}
}
