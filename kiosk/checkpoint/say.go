package checkpoint

import (
	"strings"

	"github.com/gatepost/gatepost/kiosk/words"
	"github.com/gatepost/gatepost/protocol/text"
)

// Line is one sentence for the guard, as a key of the screen's catalogues
// (say_ and the reason it explains) and the values of its {placeholders}.
// The rules say which sentence; the catalogues (zh-CN first, en) hold its
// words, and words.Sentence puts them together.
type Line struct {
	Key  string
	Args []Arg
}

// Arg fills {Name} in a line: with Text as it is (a name, a number, a
// date), or with words in the reader's language: an Area's name from
// protocol/text, or the catalogue's words for Keys, as a list.
type Arg struct {
	Name string
	Text string
	Area string
	Keys []string
}

func say(key string, args ...Arg) Line { return Line{Key: key, Args: args} }

func arg(name, value string) Arg { return Arg{Name: name, Text: value} }

// In is the line in lang.
func (l Line) In(lang string) string {
	var args map[string]string
	if len(l.Args) > 0 {
		args = make(map[string]string, len(l.Args))
	}
	for _, a := range l.Args {
		switch {
		case a.Area != "":
			args[a.Name] = text.Area(lang, a.Area)
		case a.Keys != nil:
			said := make([]string, len(a.Keys))
			for i, k := range a.Keys {
				said[i] = words.MessageIn(lang, k)
			}
			args[a.Name] = strings.Join(said, words.MessageIn(lang, "say_list_sep"))
		default:
			args[a.Name] = a.Text
		}
	}
	return words.Sentence(lang, l.Key, args)
}

// Say is a plain sentence for the guard, Chinese first.
type Say struct {
	ZH, EN string
}

// String is the sentence in both languages, Chinese first.
func (s Say) String() string { return strings.TrimSpace(s.ZH + " " + s.EN) }

// Render puts lines into words: the Chinese sentences run on, the English
// ones are spaced.
func Render(lines []Line) Say {
	zh, en := make([]string, len(lines)), make([]string, len(lines))
	for i, l := range lines {
		zh[i], en[i] = l.In("zh-CN"), l.In("en")
	}
	return Say{ZH: strings.Join(zh, ""), EN: strings.Join(en, " ")}
}
