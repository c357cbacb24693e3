# fixtures.mk - the real .NET crash-dump fixtures (tests/fixtures/make_fixtures.sh, docs/fixtures.md).
#   make fixtures         build the plugin host and crash every scenario into build/fixtures/dumps/
#                         (skipped when the sources have not changed)
#   make fixtures-check   open every dump with dotnet-dump and check it against its expectations, and the
#                         engine-free checks of every scenario (tests/e2e/test_fixture_scenarios.sh)
fixtures: deps
	bash tests/fixtures/make_fixtures.sh

fixtures-check: fixtures
	@BUILD=$(BUILD) tests/run.sh tests/e2e/test_fixtures.sh tests/e2e/test_fixture_scenarios.sh

.PHONY: fixtures-check
