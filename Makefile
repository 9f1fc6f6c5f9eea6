# Two entry points for a fresh machine (README starts with them):
#   make demo   installs Samordna into .venv and runs the main job on the embedded SQLite default
#   make test   installs Samordna with its development tools and runs the whole test suite (two workers)
# uv lives in its own small venv (.uv) so that `uv sync` never removes itself from .venv.

UV := .uv/bin/uv

.PHONY: demo test lint install install-dev clean

$(UV):
	python3 -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"

install: $(UV)
	$(UV) sync --frozen --no-dev --compile-bytecode --quiet

install-dev: $(UV)
	$(UV) sync --frozen --compile-bytecode --quiet

demo: install
	.venv/bin/samordna demo

test: install-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/pytest -p no:cacheprovider -n 2 --dist loadfile

clean:
	rm -rf .venv .uv var
