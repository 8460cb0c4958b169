package labdevice

import (
	"fmt"
	"os"
	"strings"
)

// Domain is one lab domain as the device maker reaches it.
type Domain struct {
	// Name is the DNS name ("source.test"), NetBIOS the NetBIOS name.
	Name, NetBIOS string
	// DC is the DC's host name (devices use it), URL its LDAPS URL and CA
	// the file of the CA that signed its certificate.
	DC, URL, CA string
	// Base is the domain's DN.
	Base string
	// Admin is the administrator's account name (for net -U), BindDN the
	// name it binds with over LDAPS (Administrator@SOURCE.TEST).
	Admin, BindDN string
	// Password is the administrator's password.
	Password string
}

// LabDomains returns the lab's source and target domains from the
// environment lab/env.sh prints (ADSHIFT_LAB_*).
func LabDomains() (source, target Domain, err error) {
	get := func(side string) (Domain, error) {
		env := func(k string) string { return os.Getenv("ADSHIFT_LAB_" + side + "_" + k) }
		d := Domain{
			Name: env("DOMAIN"), URL: env("URL"), CA: env("CA"), Base: env("BASE"),
			BindDN: env("ADMIN"), Admin: "Administrator", Password: os.Getenv("ADSHIFT_LAB_PASSWORD"),
		}
		if d.Name == "" || d.URL == "" || d.CA == "" || d.Base == "" || d.BindDN == "" || d.Password == "" {
			return d, fmt.Errorf("the lab's %s domain is not described in the environment: run eval \"$(lab/env.sh)\" first (ADSHIFT_LAB_%s_DOMAIN, _URL, _CA, _BASE, _ADMIN and ADSHIFT_LAB_PASSWORD)", strings.ToLower(side), side)
		}
		d.NetBIOS = strings.ToUpper(strings.SplitN(d.Name, ".", 2)[0])
		d.DC = "dc1." + d.Name
		return d, nil
	}
	if source, err = get("SOURCE"); err != nil {
		return
	}
	target, err = get("TARGET")
	return
}
