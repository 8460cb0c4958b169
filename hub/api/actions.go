package api

// The device actions an agent's platform backend runs, by Action.Name.
// They are the device_cutover actions of the configuration, plus
// reacl_rollback (restore every descriptor from the rollback journal),
// which rollback also runs when asked to. noop and echo exist for tests
// and the fleet simulator.
const (
	ActionCacheCredentials  = "cache_credentials"
	ActionReACL             = "reacl"
	ActionReACLRollback     = "reacl_rollback"
	ActionOfflineDomainJoin = "offline_domain_join"
	ActionCutover           = "cutover"
	ActionRollback          = "rollback"
	ActionCleanup           = "cleanup"
	ActionUploadLogs        = "upload_logs"
	ActionDownload          = "download"
	ActionNoop              = "noop"
	ActionEcho              = "echo"
)

// Parameter names of device actions (Action.Params). Every value is a
// string; lists are newline-separated. No parameter ever carries a secret:
// passwords a device needs (to leave or join a domain online, or to
// verify its users' target credentials) are the device's own, kept by its
// platform (the lab keeps them in the device directory).
const (
	// ParamSourceDomain and ParamTargetDomain are DNS domain names
	// ("source.test"); the NetBIOS names are ParamSourceNetBIOS and
	// ParamTargetNetBIOS ("SOURCE").
	ParamSourceDomain  = "source_domain"
	ParamTargetDomain  = "target_domain"
	ParamSourceNetBIOS = "source_netbios"
	ParamTargetNetBIOS = "target_netbios"
	// ParamSourceDC and ParamTargetDC are a DC's host name in each domain
	// ("dc1.target.test"), the one the device talks to.
	ParamSourceDC = "source_dc"
	ParamTargetDC = "target_dc"
	// ParamSIDMap is the SID map of reacl and cleanup: one "SOURCE=TARGET"
	// pair of SIDs per line (sIDHistory SIDs included).
	ParamSIDMap = "sid_map"
	// ParamMode is reacl's mode: add, replace or remove.
	ParamMode = "mode"
	// ParamUsers lists the device's users whose target credentials
	// cache_credentials verifies: one "SOURCE-SID=TARGET-SAMACCOUNTNAME"
	// per line.
	ParamUsers = "users"
	// ParamBlob is the path of the device's offline domain join file in
	// the repository (offline_domain_join).
	ParamBlob = "blob"
	// ParamTargetAccount is the DN of the pre-staged target computer
	// account (cutover); ParamSourceAccount is the source one, which
	// cutover disables and rollback enables again.
	ParamTargetAccount = "target_account"
	ParamSourceAccount = "source_account"
	// ParamNoticeSeconds is how long cutover warns the signed-in user
	// before it restarts the device.
	ParamNoticeSeconds = "notice_seconds"
	// ParamWithReACLRollback ("true") makes rollback also restore every
	// descriptor from the ReACL journal.
	ParamWithReACLRollback = "reacl_rollback"
	// ParamRepository is the repository share (a directory in the lab, a
	// UNC path on Windows) of upload_logs and download; ParamFiles lists
	// the files download fetches, relative to the repository.
	ParamRepository = "repository"
	ParamFiles      = "files"
)

// Principal is a security principal found on a device: in a user
// profile, a local group, or a security descriptor. Where says which
// ("profile", "local_group", "acl"); Name is the account name when the
// device knows it.
type Principal struct {
	SID   string `json:"sid"`
	Name  string `json:"name,omitempty"`
	Where string `json:"where,omitempty"`
}
