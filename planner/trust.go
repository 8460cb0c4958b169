package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/providers"
)

// trustAttrs are the attributes of a trustedDomain object the planner reads.
var trustAttrs = []string{"trustpartner", "flatname", "trustdirection", "trusttype", "trustattributes"}

// wantsTrust reports whether a cutover's readiness depends on the trust
// from its source to its target domain being discovered: it runs
// cache_credentials and its requirements do not state the trust by hand.
func wantsTrust(dc *config.DeviceCutover) bool {
	return contains(dc.Actions, config.ActionCacheCredentials) && !trustStated(dc)
}

// trustStated reports whether requirements { trust = … } was written: an
// override for directories whose trusts cannot be read (an LDIF export
// without CN=System).
func trustStated(dc *config.DeviceCutover) bool { return dc.Requirements.TrustRange.Filename != "" }

// trustCheck is what the planner found of the trust a cutover needs.
type trustCheck struct {
	met     bool
	code    string // the blocker's code when not met
	message string // the blocker, or what met it
}

// checkTrust looks for the trust source → target in what discovery read
// of the source directory: a trustedDomain object naming the target
// domain, outbound or two-way from the source's side.
func (pl *planning) checkTrust(dc *config.DeviceCutover, src, tgt *config.Environment) trustCheck {
	if trustStated(dc) {
		if dc.Requirements.Trust {
			return trustCheck{met: true, message: "trust stated by requirements { trust = true }, not read from the source directory"}
		}
		return trustCheck{code: "no_trust", message: "requirements { trust = false } says the trust from the source to the target domain is not in place; cache_credentials needs it"}
	}
	if pl.noTrustReads[src.Name] {
		return trustCheck{code: "no_trust", message: fmt.Sprintf("provider %q of environment.%s cannot read trusts; once the one-way trust %s → %s is in place, state it with requirements { trust = true }", src.Provider, src.Name, src.Domain, tgt.Domain)}
	}
	inv := pl.invs[src.Name]
	var found []string
	for _, o := range inv.byKind[providers.KindTrust] {
		partner, flat := o.Get("trustpartner"), o.Get("flatname")
		if !strings.EqualFold(partner, tgt.Domain) && !strings.EqualFold(flat, tgt.Domain) {
			found = append(found, partner)
			continue
		}
		dir, _ := strconv.Atoi(strings.TrimSpace(o.Get("trustdirection")))
		switch dir {
		case providers.TrustOutbound, providers.TrustBidirectional:
			what := "one-way"
			if dir == providers.TrustBidirectional {
				what = "two-way"
			}
			return trustCheck{met: true, message: fmt.Sprintf("%s trust %s → %s found in the source directory (%s)", what, src.Domain, tgt.Domain, o.DN)}
		default:
			return trustCheck{code: "trust_wrong_direction", message: fmt.Sprintf("the trust between %s and %s (%s) is inbound only (trustDirection %s): %s does not trust %s; cache_credentials needs an outbound or two-way trust from the source",
				src.Domain, tgt.Domain, o.DN, o.Get("trustdirection"), src.Domain, tgt.Domain)}
		}
	}
	msg := fmt.Sprintf("no trust from %s to %s was found in the source directory (trustedDomain objects under CN=System)", src.Domain, tgt.Domain)
	if len(found) > 0 {
		msg += "; it trusts only " + strings.Join(found, ", ")
	}
	msg += "; create a one-way outbound trust from the source to the target domain"
	return trustCheck{code: "no_trust", message: msg}
}
