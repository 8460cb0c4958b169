package plans

import "strconv"

// dotNetReleases maps .NET Framework versions to the smallest Release
// value of the registry key NDP\v4\Full that reports them.
var dotNetReleases = []struct {
	version string
	release int
}{
	{"4.5", 378389}, {"4.5.1", 378675}, {"4.5.2", 379893}, {"4.6", 393295}, {"4.6.1", 394254},
	{"4.6.2", 394802}, {"4.7", 460798}, {"4.7.1", 461308}, {"4.7.2", 461808}, {"4.8", 528040}, {"4.8.1", 533320},
}

// DotNetRelease returns the release value of a .NET version ("4.5.2"),
// or 0 when the version is not one of the 4.x line.
func DotNetRelease(version string) int {
	for _, v := range dotNetReleases {
		if v.version == version {
			return v.release
		}
	}
	return 0
}

// DotNetVersion names the newest version a release value reports.
func DotNetVersion(release int) string {
	name := ""
	for _, v := range dotNetReleases {
		if release >= v.release {
			name = v.version
		}
	}
	if name == "" {
		return "older than 4.5 (release " + strconv.Itoa(release) + ")"
	}
	return name
}
