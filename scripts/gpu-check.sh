#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU: does onnxruntime_gpu's CUDA execution provider load here
# (it links CUDA 12 and cuDNN 9), which libraries are missing if not, and how fast the toy world and a
# synthetic SD-1.5-sized UNet run on CUDA and on the CPU.
#
#   scripts/gpu-check.sh [BENCH OPTIONS]      e.g. scripts/gpu-check.sh --calls 10 --cuda-option cudnn_conv_algo_search=HEURISTIC
#
# Needs Java 17 and a built distribution: dist/target/sd/lib (./sd or `mvn -q install -DskipTests` make it),
# or SD_LIB=/path/to/lib. Without one it builds with mvn when mvn is there (the first build downloads the
# dependencies, so it needs the network or a filled ~/.m2). It runs the runtime from the lib directly, not
# through ./sd, so a checkout copied to another machine does not rebuild.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB="${SD_LIB:-$ROOT/dist/target/sd/lib}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

if ! ls "$LIB"/onnxruntime_gpu-*.jar >/dev/null 2>&1; then
  if command -v mvn >/dev/null 2>&1; then
    echo "gpu-check: no distribution at $LIB; building it (mvn -q install -DskipTests) ..."
    (cd "$ROOT" && mvn -B -q -DskipTests install) || { echo "gpu-check: the build failed"; exit 2; }
  else
    echo "gpu-check: no distribution at $LIB and no mvn here: build on a machine with Maven (./sd or mvn install"
    echo "           -DskipTests) and bring dist/target/sd along, or point SD_LIB at its lib folder"
    exit 2
  fi
fi

echo "== GPU and driver"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  nvidia-smi | grep -o 'CUDA Version: [0-9.]*' || true
else
  echo "nvidia-smi: not found"
fi
[[ -r /proc/driver/nvidia/version ]] && head -1 /proc/driver/nvidia/version || echo "no /proc/driver/nvidia/version (no NVIDIA driver loaded)"

echo
echo "== the CUDA provider's libraries (ldd libonnxruntime_providers_cuda.so from $(basename "$(ls "$LIB"/onnxruntime_gpu-*.jar | head -1)"))"
JAR="$(ls "$LIB"/onnxruntime_gpu-*.jar | head -1)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
NATIVE="ai/onnxruntime/native/linux-x64"
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$JAR" "$NATIVE/libonnxruntime_providers_cuda.so" "$NATIVE/libonnxruntime_providers_shared.so" "$NATIVE/libonnxruntime.so" -d "$TMP"
else
  (cd "$TMP" && "${JAVA_HOME:+$JAVA_HOME/bin/}jar" xf "$JAR" "$NATIVE/libonnxruntime_providers_cuda.so" \
     "$NATIVE/libonnxruntime_providers_shared.so" "$NATIVE/libonnxruntime.so")
fi
SO="$TMP/$NATIVE/libonnxruntime_providers_cuda.so"
LDD="$(LD_LIBRARY_PATH="$TMP/$NATIVE${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$SO" 2>&1)"
echo "$LDD" | grep -E 'cuda|cublas|cudnn|cufft|curand|nvrtc|not found' | sed 's/^[[:space:]]*/  /'
MISSING="$(echo "$LDD" | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')"
# cuDNN 9 and cuFFT are opened at run time, not linked: ldd does not see them, so look for them by name
found_lib() {
  ldconfig -p 2>/dev/null | grep -q "$1 " && return 0
  local d
  IFS=: read -ra dirs <<< "${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}"; do [[ -n "$d" && -e "$d/$1" ]] && return 0; done
  return 1
}
for lib in libcudnn.so.9 libcufft.so.11; do
  if found_lib "$lib"; then echo "  $lib (opened at run time) => found"; else echo "  $lib (opened at run time) => not found"; MISSING+="$lib "; fi
done
if [[ -n "$MISSING" ]]; then
  echo "MISSING: $MISSING"
  echo "  The CUDA provider of ONNX Runtime $(basename "$JAR" .jar | sed 's/onnxruntime_gpu-//') needs the CUDA 12 runtime libraries"
  echo "  (cudart, cublas/cublasLt, cufft, curand) and cuDNN 9 for CUDA 12, found through the loader path. Either"
  echo "  install NVIDIA's packages (e.g. apt: cuda-cudart-12-x libcublas-12-x libcufft-12-x libcurand-12-x"
  echo "  libcudnn9-cuda-12), or pip install nvidia-cuda-runtime-cu12 nvidia-cublas-cu12 nvidia-cufft-cu12"
  echo "  nvidia-curand-cu12 nvidia-cudnn-cu12 and add their */lib folders to LD_LIBRARY_PATH. A CUDA 13 toolkit"
  echo "  alone does not do: the sonames end in .12 (.9 for cuDNN). The driver only needs to support CUDA 12."
else
  echo "all the libraries it links resolve"
fi

echo
echo "== ./sd bench --device cuda $* (CUDA, and the CPU for the ratios; exit 1 when CUDA does not load)"
"$JAVA" ${SD_JAVA_OPTS:-} -cp "$LIB/*" io.jdiffusion.runtime.Main bench --device cuda "$@"
CUDA_RC=$?
echo
echo "== ./sd bench --device cpu $*"
"$JAVA" ${SD_JAVA_OPTS:-} -cp "$LIB/*" io.jdiffusion.runtime.Main bench --device cpu "$@"
CPU_RC=$?
echo
echo "gpu-check: cuda bench exit $CUDA_RC, cpu bench exit $CPU_RC"
[[ $CUDA_RC == 0 && $CPU_RC == 0 ]]
