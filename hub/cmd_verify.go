package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
)

// errTampered is what `hub verify` returns when it finds any entry not as
// received, so that the command exits non-zero after printing them.
var errTampered = errors.New("stored entries are not as the hub received them")

func newVerifyCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var kiosk string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-walk every stored chain and name each entry altered, deleted or inserted after it was received",
		Long: "Each entry's hash, computed by the hub when it received the entry, is recomputed from what hub.db\n" +
			"holds now, and each entry's link to the one before it is checked. Every entry altered, deleted or\n" +
			"inserted in hub.db since is named; the command then exits non-zero. Purged entries verify with the\n" +
			"digest of their personal details kept at the purge (docs/security.md, \"The entry chain\"). The stored\n" +
			"hashes are also checked against each batch's signature by its kiosk's enrolled key, which catches\n" +
			"hashes recomputed after an edit.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withRecords(cmd, true, func(store *records.SQLite) error {
				v, err := store.Verify(cmd.Context(), kiosk)
				if err != nil {
					return err
				}
				if err := verifySigs(cmd, data, store, kiosk, &v); err != nil {
					return err
				}
				if err := printVerified(stdout, v, asJSON); err != nil {
					return err
				}
				if len(v.Findings) > 0 {
					return fmt.Errorf("%w: %d found; see above, and restore hub.db from a backup or find who changed it", errTampered, len(v.Findings))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&kiosk, "kiosk", "", "verify only this kiosk's chain")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON: counts and a findings array")
	return cmd
}

// verifySigs adds to v the check of the kept batch signatures against
// the kiosks' enrolled keys.
func verifySigs(cmd *cobra.Command, data *hubData, store *records.SQLite, kiosk string, v *records.Verified) error {
	return data.withRegistry(cmd, func(reg *registry.Store) error {
		sv, err := store.VerifySigs(cmd.Context(), kiosk, func(ctx context.Context, k string) (ed25519.PublicKey, error) {
			got, err := reg.Get(ctx, k)
			if errors.Is(err, registry.ErrUnknown) {
				return nil, nil
			}
			return got.PublicKey, err
		})
		if err != nil {
			return err
		}
		v.Signatures, v.SignaturesSkipped = sv.Checked, sv.Skipped
		v.Findings = append(v.Findings, sv.Findings...)
		return nil
	})
}

func printVerified(w io.Writer, v records.Verified, asJSON bool) error {
	if asJSON {
		return listing{json: true}.print(w, v, nil)
	}
	for _, f := range v.Findings {
		seq := fmt.Sprint(f.Seq)
		if f.Last != 0 {
			seq = fmt.Sprintf("%d..%d", f.Seq, f.Last)
		}
		fmt.Fprintf(w, "%s seq %s: %s: %s\n", f.Kiosk, seq, f.Problem, f.Detail)
	}
	verdict := "all verified"
	if len(v.Findings) > 0 {
		verdict = fmt.Sprintf("%d problems", len(v.Findings))
	}
	_, err := fmt.Fprintf(w, "%d kiosks, %d entries (%d purged, %d stored before the chain, not verifiable), "+
		"%d batch signatures checked (%d skipped) in %s: %s\n",
		v.Kiosks, v.Entries, v.Purged, v.Unchained, v.Signatures, v.SignaturesSkipped, v.Took, verdict)
	return err
}
