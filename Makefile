# adshift — the two commands of the README:
#   make quickstart   plan the quickstart migration (no Active Directory needed)
#   make test         everything CI runs: vet, the lab, go test -race, CLI scripts

.PHONY: quickstart test lab lab-down bench build

quickstart:
	go run ./cmd/adshift -chdir=examples/quickstart plan

build:
	go build -o adshift ./cmd/adshift

# test brings up the Samba AD lab when it can (root on Debian: it installs
# samba and python3-samba), so the integration and conformance tests run
# against real domain controllers; elsewhere they skip and say so.
test:
	./scripts/test.sh

lab:
	lab/up.sh

lab-down:
	lab/down.sh

bench:
	bench/plan.sh
