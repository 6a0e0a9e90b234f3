"""The plain BM25-OR peer of the relevance measurement (kb.search.baseline), on real corpus
sentences: particles and politeness dropped by part of speech, every other word kept, any word
enough to find a text, the title counting more than the body."""

import pytest

from kb.search.baseline import CHUNK, Baseline, chunks

TEXTS = [
    (
        "vm-operation",
        "ja",
        "Azure 仮想マシンにおける操作 (再起動、停止/起動、再デプロイ、再適用) について",
        "ゲスト OS 上でのみシャットダウンを実行した場合には、仮想マシンの状態が停止済み (割り当て解除) ではなく、"
        "停止済みとなり、仮想マシンとしての課金が継続します。",
    ),
    (
        "azure-files-user-mount",
        "ja",
        "Azure Files はユーザー毎のマウントが必要です",
        "ユーザー A でマウントした Azure Files についてユーザー B より参照ができない。",
    ),
    (
        "serial-console-troubleshooting",
        "en",
        "Connect to a VM with Azure Serial Console",
        "If the screen stays blank, press Enter once. At the SAC> prompt type cmd.",
    ),
]


@pytest.fixture(scope="module")
def baseline():
    return Baseline(TEXTS)


def test_particles_auxiliaries_and_symbols_are_dropped_and_the_key_verbs_stay(baseline):
    words = list(baseline.words("VM を停止したのに課金が続いているのはどうしてですか"))
    assert {"停止", "課金", "続く"} <= set(words)
    assert not {"を", "のに", "が", "の", "は", "です", "か"} & set(words)


def test_a_question_with_extra_words_still_finds_the_text_of_its_key_words(baseline):
    assert baseline.search("VM を停止したのに課金が続いているのはどうしてですか")[0] == "vm-operation"
    assert (
        baseline.search("別のユーザーでログオンすると Azure Files のドライブが見えません")[0]
        == "azure-files-user-mount"
    )


def test_words_are_normalised_as_sudachi_normalises_them(baseline):
    assert list(baseline.words("ｻｰﾊﾞ")) == list(baseline.words("サーバー"))
    assert list(baseline.words("ＳＥＲＩＡＬ ｃｏｎｓｏｌｅ")) == list(baseline.words("serial console"))
    assert list(baseline.words("SAC")) == ["sac"]
    assert baseline.search("ﾏｳﾝﾄ")[0] == "azure-files-user-mount"


def test_the_title_counts_more_than_the_body():
    texts = [("in-body", "en", "Other", "serial console"), ("in-title", "en", "Serial console", "other")]
    assert Baseline(texts).search("serial console") == ["in-title", "in-body"]


def test_a_query_of_stop_words_only_finds_nothing(baseline):
    assert baseline.search("のはですか") == []
    assert baseline.search("") == []


def test_long_texts_go_to_sudachi_in_pieces_it_accepts():
    line = "仮想マシンの状態を確認します。" * 40 + "\n"
    text = line * 200 + "あ" * (CHUNK * 2 + 5)
    pieces = list(chunks(text))
    assert "".join(pieces) == text and max(map(len, pieces)) <= CHUNK
    assert Baseline([("long", "ja", "長い", text)]).search("仮想マシン") == ["long"]
