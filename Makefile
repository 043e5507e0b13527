# t-GAN Explorer. `make install` once, then `make test` or `make app`.
PY ?= .venv/bin/python
SHARED_MNIST ?= ../shared/data/mnist

.PHONY: install data test test-fast lint app gradio bench clean

install:  ## virtualenv + pinned requirements (+ Debian chromium and Fashion-MNIST when root)
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (dpkg -s chromium >/dev/null 2>&1 && dpkg -s dataset-fashion-mnist >/dev/null 2>&1) || \
	  (apt-get update -qq && apt-get install -y -qq chromium dataset-fashion-mnist) || \
	  echo "note: apt-get could not install chromium / dataset-fashion-mnist"; fi

data:  ## MNIST, Fashion-MNIST and CIFAR-10 into ./data (or $TGAN_DATA)
	$(PY) -m core data mnist fashion $(if $(wildcard $(SHARED_MNIST)/train-images-idx3-ubyte.gz),--mnist-from $(SHARED_MNIST))
	-$(PY) -m core data cifar10

test:  ## the full default suite (CI runs this): two workers, one test file each at a time
	$(PY) -m pytest -q -n 2 --dist loadfile

test-fast:
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not slow and not browser"

lint:
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

app:
	.venv/bin/streamlit run explorer/Home.py

gradio:
	$(PY) explorer/gradio_demo.py

bench:
	$(PY) benchmarks/bench_train.py

clean:
	rm -rf .pytest_cache .ruff_cache
