"""Sentence boundaries in French press text, and chunks that map back to the source."""

from index.sentences import make_splitter, sentence_spans


def sentences(text):
    return [text[a:b] for a, b in sentence_spans(text)]


def test_guillemets_stay_with_the_sentence_they_close():
    assert sentences("Il a dit « c’est fini. » Puis il est parti.") == ["Il a dit « c’est fini. »", "Puis il est parti."]


def test_an_opening_guillemet_starts_the_next_sentence():
    assert sentences("Il a regretté le chaos. « Je regrette profondément. »") == [
        "Il a regretté le chaos.",
        "« Je regrette profondément. »",
    ]


def test_an_ellipsis_ends_a_sentence():
    assert sentences("Il est parti… Le lendemain, il est revenu.") == ["Il est parti…", "Le lendemain, il est revenu."]


def test_abbreviations_and_apostrophes_do_not_split():
    assert sentences("M. Altman a quitté l’entreprise d’OpenAI. Il n’a rien dit.") == [
        "M. Altman a quitté l’entreprise d’OpenAI.",
        "Il n’a rien dit.",
    ]


def test_sentences_glued_without_a_space_are_separated():
    assert sentences("Ils ont signé la lettre.Les rapports font état de 770 employés.") == [
        "Ils ont signé la lettre.",
        "Les rapports font état de 770 employés.",
    ]


def test_an_exclamation_inside_a_sentence_does_not_cut_it():
    text = "Pas moins de 505 employés - sur un total 700, tout de même ! - ont signé une lettre."
    assert sentences(text) == [text]


def test_english_sentences_split_too():
    assert sentences("Sam Altman was fired on Friday. Emmett Shear became interim CEO.") == [
        "Sam Altman was fired on Friday.",
        "Emmett Shear became interim CEO.",
    ]


def test_each_chunk_is_an_exact_span_of_the_source():
    from llama_index.core import Document

    text = ("Le conseil a tranché. " * 40 + "\n\n") * 3 + "« Nous partirons », disent-ils… Fin."
    nodes = make_splitter(chunk_size=64, chunk_overlap=8).get_nodes_from_documents([Document(text=text)])
    assert len(nodes) > 3
    for node in nodes:
        assert text[node.start_char_idx : node.end_char_idx] == node.text
