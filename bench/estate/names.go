package estate

import (
	"math"
	"math/bits"
	"strings"
)

// firstNames and lastNames are combined pairwise into unique people. Their
// ASCII folds must stay unique within each list (checked by a test), and a
// fold is at most 9 (first) and 10 (last) bytes so "first.last" fits
// sAMAccountName's 20 characters.
var firstNames = []string{
	"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
	"William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
	"Thomas", "Sarah", "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa",
	"Anthony", "Betty", "Mark", "Margaret", "Donald", "Sandra", "Steven", "Ashley",
	"Paul", "Kimberly", "Andrew", "Emily", "Joshua", "Donna", "Kenneth", "Michelle",
	"Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Timothy", "Deborah",
	"Ronald", "Stephanie", "Edward", "Rebecca", "Jason", "Sharon", "Jeffrey", "Laura",
	"Ryan", "Cynthia", "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela",
	"Eric", "Shirley", "Jonathan", "Anna", "Stephen", "Brenda", "Larry", "Pamela",
	"Justin", "Emma", "Scott", "Nicole", "Brandon", "Helen", "Benjamin", "Samantha",
	"Samuel", "Katherine", "Gregory", "Christine", "Alexander", "Debra", "Patrick", "Rachel",
	"Frank", "Carolyn", "Raymond", "Janet", "Jack", "Maria", "Dennis", "Olivia",
	"Jerry", "Heather", "Tyler", "Diane", "Aaron", "Julie", "Luis", "Joyce",
	"Adam", "Victoria", "Nathan", "Ruth", "Henry", "Virginia", "Zachary", "Lauren",
	"José", "Zoë", "Chloé", "François", "Jürgen", "Søren", "Łukasz", "Aurélie",
	"Björn", "Inés", "Raúl", "Małgosia", "Günther", "Hélène", "Priya", "Wei",
	"Yuki", "Aisha", "Mateo", "Fatima", "Arjun", "Mei", "Kwame", "Olga",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
	"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas",
	"Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
	"Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
	"Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
	"Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
	"Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
	"Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey",
	"Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
	"Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza",
	"Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers",
	"Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell",
	"Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes", "Gonzales", "Fisher",
	"Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham",
	"Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant",
	"Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray",
	"Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald", "Woods",
	"Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb",
	"Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
	"Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Burke",
	"Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd",
	"O'Brien", "O'Connor", "Lee-Smith", "Müller", "Møller", "Ågren", "Nowak", "Kowalczyk",
	"Dubois", "Lefèvre", "Muñoz", "Peña", "Schröder", "Åström", "Çelik", "Yılmaz",
	"Nakamura", "Tanaka", "Zhang", "Wang", "Singh", "Sharma", "Okafor", "Mensah",
}

// fold maps the letters used in the name lists to ASCII the way account
// names are usually derived (diacritics dropped, apostrophes removed).
var fold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ä", "a", "å", "a", "Å", "A", "ã", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e", "É", "E",
	"í", "i", "ı", "i", "ï", "i",
	"ó", "o", "ö", "o", "ø", "o", "ô", "o", "Ö", "O",
	"ú", "u", "ü", "u", "ç", "c", "Ç", "C", "ñ", "n",
	"Ł", "L", "ł", "l", "ß", "ss", "'", "",
)

// accountName is the lower-case ASCII fold of a name, for
// sAMAccountName and mail local parts.
func accountName(s string) string {
	return lowerASCII(fold.Replace(s))
}

// site is an office location: an OU below Staff, Workstations and
// Servers. Weight is its share of people and machines.
type site struct {
	name, code string
	weight     int
}

// sites include one non-ASCII name, so every DN below it is base64 in LDIF.
var sites = []site{
	{"London", "LON", 3}, {"New York", "NYC", 3}, {"Chicago", "CHI", 2}, {"San Francisco", "SFO", 2},
	{"Paris", "PAR", 2}, {"Berlin", "BER", 2}, {"Madrid", "MAD", 1}, {"São Paulo", "SAO", 1},
	{"Sydney", "SYD", 1}, {"Tokyo", "TYO", 1}, {"Toronto", "TOR", 1}, {"Singapore", "SIN", 1},
}

// siteCDF[k] is the cumulative weight of sites[0..k].
var siteCDF = func() []int {
	out := make([]int, len(sites))
	sum := 0
	for i, s := range sites {
		sum += s.weight
		out[i] = sum
	}
	return out
}()

// department is an organisational unit of people: an OU below each site,
// and the department attribute.
type department struct {
	name, code string
	titles     []string
}

var departments = []department{
	{"Finance", "FIN", []string{"Accountant", "Financial Analyst", "Payroll Specialist", "Controller", "Finance Manager"}},
	{"Sales", "SAL", []string{"Account Executive", "Sales Representative", "Sales Engineer", "Account Manager", "Sales Manager"}},
	{"Marketing", "MKT", []string{"Marketing Specialist", "Content Strategist", "Brand Designer", "Marketing Analyst", "Marketing Manager"}},
	{"Engineering", "ENG", []string{"Software Engineer", "Senior Software Engineer", "QA Engineer", "DevOps Engineer", "Engineering Manager"}},
	{"IT", "IT", []string{"Service Desk Analyst", "Systems Administrator", "Network Engineer", "Security Analyst", "IT Manager"}},
	{"Human Resources", "HR", []string{"HR Coordinator", "Recruiter", "HR Business Partner", "Benefits Advisor", "HR Manager"}},
	{"Legal", "LEG", []string{"Paralegal", "Counsel", "Senior Counsel", "Contracts Manager", "Legal Director"}},
	{"Operations", "OPS", []string{"Operations Analyst", "Logistics Coordinator", "Planner", "Operations Lead", "Operations Manager"}},
	{"Support", "SUP", []string{"Support Engineer", "Support Specialist", "Escalation Engineer", "Support Lead", "Support Manager"}},
	{"Procurement", "PRC", []string{"Buyer", "Category Manager", "Procurement Analyst", "Vendor Manager", "Procurement Manager"}},
	{"Research", "RND", []string{"Research Scientist", "Research Engineer", "Lab Technician", "Principal Scientist", "Research Manager"}},
	{"Facilities", "FAC", []string{"Facilities Coordinator", "Technician", "Office Manager", "Workplace Lead", "Facilities Manager"}},
}

// groupTopics and groupRoles name regular groups: PREFIX-DEPT-SITE-Topic-Role.
var groupTopics = []string{
	"Budget", "Payroll", "Contracts", "Projects", "Reports", "CRM", "ERP", "Intranet",
	"Wiki", "Backups", "Printers", "VPN", "Audit", "Planning", "Hiring", "Training",
	"Roadmap", "Vendors", "Assets", "Analytics", "Design", "Releases", "Tickets", "Quality",
	"Compliance", "Events", "Travel", "Forecast", "Pricing", "Leads", "Campaigns", "Onboarding",
	"Benefits", "LegalHold", "Workplace", "Security", "Data", "SharePoint", "Teams", "Archive",
}

var groupRoles = []string{"Readers", "Editors", "Owners", "Approvers", "Members", "Admins", "Users", "Team"}

// osShare is an operating system and its weight within a machine class.
type osShare struct {
	os     osRelease
	weight int
}

// Workstation and server OS mixes: mostly supported systems, with the
// unsupported ones (XP, Vista, 7 without SP1, 8.1, 2008 R2, Linux) an
// estate of this size always has.
var (
	workstationOS = []osShare{
		{osWin10Ent, 46}, {osWin10Pro, 5}, {osWin11Pro, 18}, {osWin11Ent, 12},
		{osWin7SP1, 9}, {osWin7RTM, 1}, {osWin81Pro, 3}, {osXP, 3}, {osVista, 3},
	}
	serverOS = []osShare{
		{os2016, 25}, {os2019, 28}, {os2022Std, 14}, {os2022DC, 6},
		{os2012R2, 10}, {os2008R2, 9}, {osUbuntu, 8},
	}
)

func pickOS(shares []osShare, r *prng) osRelease {
	total := 0
	for _, s := range shares {
		total += s.weight
	}
	x := r.intn(total)
	for _, s := range shares {
		if x < s.weight {
			return s.os
		}
		x -= s.weight
	}
	return shares[len(shares)-1].os
}

// prng is a splitmix64 generator: tiny, allocation-free and seekable, so
// every object's attributes derive from (seed, tag, index) alone and any
// object can be regenerated on demand without holding the estate.
type prng struct{ s uint64 }

// Tags separate the random streams of different derivations.
const (
	tagStaff uint64 = iota + 1
	tagAdmin
	tagGroup
	tagComputer
	tagTargetUser
	tagTargetGroup
	tagTargetComputer
	tagMeta
)

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func newPRNG(seed, tag uint64, i int) prng {
	return prng{s: mix64(seed+0x9e3779b97f4a7c15*tag) ^ mix64(uint64(i)+0xd1b54a32d192ed03*(tag+7))}
}

func (p *prng) next() uint64 {
	p.s += 0x9e3779b97f4a7c15
	return mix64(p.s)
}

// intn returns a value in [0, n); n must be positive.
func (p *prng) intn(n int) int {
	hi, _ := bits.Mul64(p.next(), uint64(n))
	return int(hi)
}

// float returns a value in [0, 1).
func (p *prng) float() float64 {
	return float64(p.next()>>11) / (1 << 53)
}

// normal returns a standard normal deviate (Box-Muller).
func (p *prng) normal() float64 {
	u1 := 1 - p.float() // (0, 1]
	u2 := p.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

func (p *prng) site() int {
	x := p.intn(siteCDF[len(siteCDF)-1])
	for k, c := range siteCDF {
		if x < c {
			return k
		}
	}
	return len(sites) - 1
}
