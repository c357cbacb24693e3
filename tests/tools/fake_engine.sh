#!/bin/sh
# fake_engine.sh - stands in for the SOS engine in tests/e2e/test_harden_engine.sh: started as
# `fake_engine.sh analyze DUMP`, it only waits (not exec: its own arguments must stay visible), like an engine busy with a big heap.
sleep 600
