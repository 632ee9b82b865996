package screen

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gatepost/gatepost/kiosk/words"
)

// serveCatalogue serves /assets/i18n/<lang>.json: the kiosk's catalogue
// (kiosk/words) as the page reads it.
func serveCatalogue(w http.ResponseWriter, r *http.Request) {
	lang, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	m := words.Catalogue(lang)
	if !ok || m == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(m)
}
