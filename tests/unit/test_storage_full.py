"""A full disk is recognised even when the writer that hit it reports only a generic failure
(Chroma's compaction does): the folder the store writes in is looked at too."""

import subprocess
import sys

from index.store.errors import is_storage_full, out_of_space

PROBE = """
import resource, sys
from pathlib import Path
from index.store.errors import is_storage_full
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
print(is_storage_full(RuntimeError("Error in compaction: Failed to apply logs"), Path(sys.argv[1])))
"""


def test_a_file_at_the_file_size_limit_makes_a_generic_failure_a_full_disk(tmp_path):
    (tmp_path / "segment.bin").write_bytes(b"x" * 4096)
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


def test_a_generic_failure_with_room_on_the_disk_is_not_a_full_disk(tmp_path):
    (tmp_path / "segment.bin").write_bytes(b"x" * 4096)
    assert not out_of_space(tmp_path)
    assert not is_storage_full(RuntimeError("Error in compaction: Failed to apply logs"), tmp_path)


def test_what_the_error_says_is_enough_without_a_folder():
    assert is_storage_full(OSError(28, "No space left on device"))
    assert is_storage_full(RuntimeError("disk I/O error"))
    assert not is_storage_full(RuntimeError("Error in compaction"))
