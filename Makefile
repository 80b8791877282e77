# ringkv — top-level entry points. Everything real lives in CMake; this file only
# chains "install what is missing" -> "configure once" -> "build incrementally".
#
#   make run         install deps, build release, start a server on 127.0.0.1:6379
#   make test        install deps, build, run every suite through ctest
#   make test-asan   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-tsan   the threaded parts under ThreadSanitizer
#   make sim SEEDS=N run the deterministic Raft simulator over N seeds
#   make cluster     start a local three-node cluster (conf/cluster-3/) on 127.0.0.1:7001-7003
#   make cluster-stop

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
JOBS       ?= $(shell nproc)
CONFIG     ?= conf/ringkv.yaml
SEEDS      ?= 2000
CTEST_ARGS ?=

CMAKE_COMMON = -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

.PHONY: all deps build run test test-asan test-tsan sim bench bench-engines bench-cluster cluster cluster-stop clean format

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/server/ringkv-server --config $(CONFIG)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

$(BUILD_ASAN)/build.ninja:
	cmake -S . -B $(BUILD_ASAN) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DRINGKV_SANITIZE=address

test-asan: deps $(BUILD_ASAN)/build.ninja
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

$(BUILD_TSAN)/build.ninja:
	cmake -S . -B $(BUILD_TSAN) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DRINGKV_SANITIZE=thread

test-tsan: deps $(BUILD_TSAN)/build.ninja
	cmake --build $(BUILD_TSAN) -j $(JOBS)
	cd $(BUILD_TSAN) && ctest --output-on-failure -j $(JOBS) -L threaded $(CTEST_ARGS)

sim: build
	$(BUILD)/tests/sim/ringkv-sim --seeds $(SEEDS)

bench: build
	tests/bench/vs-redis.sh

bench-engines: deps
	scripts/deps.sh librocksdb-dev libleveldb-dev liblmdb-dev
	cmake -S . -B $(BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release -DRINGKV_BENCH_ENGINES=ON
	cmake --build $(BUILD) -j $(JOBS)
	$(BUILD)/tests/bench/engines/ringkv-bench-engines

bench-cluster: build
	scripts/deps.sh etcd-server etcd-client
	tests/bench/cluster.sh
	tests/bench/cluster_pipelines.sh

cluster: build
	scripts/cluster.sh start $(BUILD)

cluster-stop:
	scripts/cluster.sh stop

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN)

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i
