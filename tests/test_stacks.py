"""The pinned real stacks build from the index and run this checkout's envparity."""

import subprocess

import pytest
from _stacks import stack_env


@pytest.mark.slow
def test_stacks_import_their_pinned_versions(stack_np1, stack_np2):
    code = "import numpy, scipy, sklearn, pandas, envparity; print(numpy.__version__)"
    for venv, version in ((stack_np1, "1.26.4"), (stack_np2, "2.2.6")):
        r = subprocess.run(
            [str(venv.python), "-c", code], capture_output=True, text=True, env=stack_env()
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == version
