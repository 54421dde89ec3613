"""The bundled text sources load from the installed package."""

from spokenlm.data.text_sources import harvard, ljspeech, load_text_source


def test_bundled_sources_have_their_documented_sizes() -> None:
    items = list(harvard())
    assert len(items) == 720 and items[0].text == "The birch canoe slid on the smooth planks."
    assert sum(1 for _ in ljspeech()) == 13100
    assert len(list(load_text_source("harvard"))) == 720
