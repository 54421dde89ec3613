"""``spokenlm serve``: its help documents MODEL_DIR and the safe defaults; bad inputs give one-line errors."""

from __future__ import annotations

from typer.testing import CliRunner

from spokenlm.cli import app

runner = CliRunner()


def said(result) -> str:
    """The output with line wrapping undone."""
    return " ".join(result.output.split())


def test_help_documents_the_model_dir_and_the_defaults() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    text = said(result)
    for words in ("tokenizer/, lm/model/", "vocoder/vocoder/", "generation/text_lm/", "127.0.0.1", "--tls-cert", "--token",
                  "half-duplex", "cascade"):
        assert words in text, words


def test_a_missing_model_dir_or_part_is_one_line(tmp_path) -> None:
    result = runner.invoke(app, ["serve", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "MODEL_DIR not found" in said(result) and "Traceback" not in result.output
    (tmp_path / "run").mkdir()
    result = runner.invoke(app, ["serve", str(tmp_path / "run")])
    assert result.exit_code == 2 and "no tokenizer (looked for tokenizer/config.json)" in said(result)


def test_a_certificate_without_its_key_is_refused(tmp_path) -> None:
    result = runner.invoke(app, ["serve", str(tmp_path), "--tls-cert", str(tmp_path / "cert.pem")])
    assert result.exit_code == 2 and "--tls-cert and --tls-key go together" in said(result)
