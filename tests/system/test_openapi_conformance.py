"""Schemathesis, generating requests from the app's own OpenAPI spec, finds no 5xx
and no response that breaks the spec.  It runs as its own CLI against the app
served on loopback, exactly as it would against a deployment.

Strings are generated as valid UTF-8 without NUL: the API refuses the others
with a 422 (tested in test_api.py), which JSON Schema cannot express.
tests/schemathesis.toml lists the two refusals the spec cannot describe.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from qa.api.app import create_app
from qa.service import QAService
from tests.helpers import serving


@pytest.mark.slow
def test_the_api_honours_its_spec(indexed_copy):
    service = QAService.from_settings(indexed_copy("schema-index", rate_limit_per_minute=0))
    cli = Path(sys.executable).with_name("schemathesis")
    with serving(create_app(service)) as url:
        result = subprocess.run(
            [str(cli), "--config-file", str(Path(__file__).with_name("schemathesis.toml")), "--no-color", "run",
             f"{url}/openapi.json", "--checks", "all", "--max-examples", "30", "--seed", "1", "--workers", "1",
             "--generation-database", "none", "--generation-codec", "utf-8", "--generation-allow-x00", "false",
             "--request-timeout", "60"],
            capture_output=True, text=True, timeout=900, check=False,
        )
    service.close()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
