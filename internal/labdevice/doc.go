// Package labdevice makes lab devices: directories standing for Windows
// computers (see agent/lab for the layout) that are really joined to the
// lab's source domain. For each device it creates (or reuses) its users
// and a group in the source domain, and, when asked, the users' migrated
// counterparts in the target domain (same name and password, as a
// migration with password copy leaves them); writes inventory.json,
// smb.conf, secrets.json, profiles.json and groups.json with the real
// SIDs; populates disk/ through agent/lab.PopulateDisk; and joins the
// source with Samba's net ads join, proven by net ads testjoin.
//
// It talks to the lab DCs with Samba's and OpenLDAP's command-line tools
// (net, ldapsearch, ldapmodify, ldapdelete) over LDAPS with the lab CA;
// the lab's environment (lab/env.sh) says where they are. Tests and the
// small command in cmd/ (lab/devices.sh) use it.
package labdevice
