# demo.mk - `make demo`: a newcomer's first five minutes (installer/demo.sh, docs/service.md): starts
# dumpscoutd on ./var/ in the background when it is not running, crashes one real .NET fixture into
# var/dumps/, waits for the service to process it, shows `dumpscout show` of it, and stops the service
# again if it started it. DEMO_SCENARIO=sNN-... picks another scenario (tests/fixtures/make_fixtures.sh --list).
demo: deps all
	bash installer/demo.sh
