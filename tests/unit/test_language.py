"""The language of a question decides the language of its answer."""

import pytest

from index.text.language import detect_language


@pytest.mark.parametrize(
    "question",
    ["Combien d’employés ont signé la lettre ?", "Qui est Emmett Shear ?", "Et qui l’a remplacée ?", "Emmett Shear ?",
     "Pourquoi Altman a-t-il été licencié ?"],
)
def test_french_questions(question):
    assert detect_language(question) == "fr"


@pytest.mark.parametrize(
    "question",
    ["How many employees signed the letter?", "Who is Emmett Shear?", "When was Altman fired?", "Emmett Shear?",
     "What did Satya Nadella say?"],
)
def test_english_questions(question):
    assert detect_language(question) == "en"


def test_nltk_is_loaded_at_start_up_so_requests_in_parallel_never_import_it():
    """Two request threads importing nltk at once once broke an upload with a 500."""
    import subprocess
    import sys

    code = ("import sys, qa.service; "
            "print(all(m in sys.modules for m in ('nltk.tokenize', 'nltk.corpus')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.strip() == "True", done.stderr


def test_first_uses_from_many_threads_at_once_all_succeed():
    import subprocess
    import sys

    code = (
        "import threading, qa.service\n"
        "from index.text.language import detect_language\n"
        "from index.text.sentences import sentence_spans\n"
        "errors = []\n"
        "def work():\n"
        "    try:\n"
        "        detect_language('Combien de salariés ?'); sentence_spans('Une phrase. Une autre.')\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "threads = [threading.Thread(target=work) for _ in range(8)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(errors)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
