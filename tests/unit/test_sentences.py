"""Sentence boundaries in French press text, and chunks that map back to the source."""

from index.loaders.structure import TextBuilder
from index.text.sentences import make_splitter, sections, sentence_spans, unit_spans


def sentences(text):
    return [text[a:b] for a, b in sentence_spans(text)]


def test_guillemets_stay_with_the_sentence_they_close():
    expected = ["Il a dit « c’est fini. »", "Puis il est parti."]
    assert sentences("Il a dit « c’est fini. » Puis il est parti.") == expected


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


def built(*blocks):
    """A structured text from (kind, text) pairs; ("heading", level, text) for headings."""
    builder = TextBuilder()
    for kind, *args in blocks:
        if kind == "heading":
            builder.heading(*args)
        else:
            builder.add(kind, *args)
    return builder.build()


def units(doc):
    return [doc.text[a:b] for a, b in unit_spans(doc.text, doc.blocks)]


def test_a_prose_block_is_split_into_sentences_and_other_blocks_are_units_whole():
    doc = built(
        ("heading", 1, "Impression"),
        ("paragraph", "CUPS est le standard. Il parle IPP."),
        ("item", "Installez cups. Puis redémarrez"),
        ("row", "paquet: cups | port: IPP (631)"),
        ("code", "    lpstat -p"),
    )
    assert units(doc) == [
        "Impression", "CUPS est le standard.", "Il parle IPP.", "Installez cups. Puis redémarrez",
        "paquet: cups | port: IPP (631)", "lpstat -p",
    ]


def test_a_sentence_never_runs_from_one_block_into_the_next():
    doc = built(("paragraph", "Une phrase sans point final"),
                ("paragraph", "« et une autre » qui commence en minuscule."))
    assert units(doc) == ["Une phrase sans point final", "« et une autre » qui commence en minuscule."]


def test_a_chunk_section_never_spans_two_headings_and_empty_headings_open_the_next():
    doc = built(
        ("heading", 1, "Chapitre 6"),
        ("heading", 2, "6.1 Navigateurs"),
        ("paragraph", "Firefox et Chromium."),
        ("heading", 2, "6.2 Courrier"),
        ("paragraph", "Postfix."),
    )
    runs = [[doc.text[b.start : b.end] for b in run] for run in sections(doc.blocks)]
    assert runs == [["Chapitre 6", "6.1 Navigateurs", "Firefox et Chromium."], ["6.2 Courrier", "Postfix."]]
    assert [run[-1].section for run in sections(doc.blocks)] == [
        ("Chapitre 6", "6.1 Navigateurs"),
        ("Chapitre 6", "6.2 Courrier"),
    ]
