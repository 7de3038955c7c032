"""``mood:"…"`` without an LLM: the catalogue's genres in five languages, typos, negations, "short"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.recommend.mood import VOCABULARY, read_mood
from engine.values.models import Mode, RecommendRequest
from tests.fakes.openai import FakeOpenAI, is_naming, is_tagging, names_answer, shortlist_ids, tags_answer, user_text

# (what a person types, the genres it must ask for — in the order named —, whether episodes must be short)
TABLE: list[tuple[str, tuple[str, ...], bool]] = [
    # English
    ("horror", ("horror",), False),
    ("comedy", ("comedy",), False),
    ("thriller", ("thriller",), False),
    ("sci-fi", ("science-fiction",), False), ("feel-good", ("family",), False),
    ("something funny and short", ("comedy",), True),
    ("something scary", ("horror",), False),
    ("a dark crime drama", ("crime", "thriller", "drama"), False),
    ("true crime", ("crime",), False),
    ("space opera", ("science-fiction",), False),
    ("science fiction", ("science-fiction",), False),
    ("time travel", ("science-fiction",), False),
    ("a documentary about nature", ("documentary",), False),
    ("docuseries", ("documentary",), False),
    ("anime", ("animation",), False),
    ("cartoons", ("animation",), False),
    ("romantic comedy", ("romance", "comedy"), False), ("rom-com", ("romance",), False),
    ("a mystery", ("mystery",), False),
    ("whodunit", ("mystery",), False),
    ("war", ("war",), False),
    ("a western", ("western",), False), ("historical drama", ("history", "drama"), False),
    ("period drama", ("history", "drama"), False),
    ("superhero action", ("action",), False),
    ("an epic fantasy with dragons", ("fantasy",), False), ("magic", ("fantasy",), False),
    ("adventure", ("adventure",), False), ("cozy and wholesome", ("family",), False),
    ("for the kids", ("children",), False), ("reality tv", ("reality",), False),
    ("a cooking show", ("reality",), False), ("sports", ("sporting-event",), False),
    ("a musical", ("music",), False), ("late night talk show", ("talk-show",), False),
    ("a soap opera", ("soap",), False),
    ("the news", ("news",), False),
    ("something tense", ("thriller",), False),
    ("creepy", ("horror",), False),
    ("spooky halloween", ("horror",), False),
    ("sad, I want to cry", ("drama",), False),
    ("quick and silly", ("comedy",), True), ("a short comedy", ("comedy",), True),
    ("something I can watch at lunch", (), True), ("bite-sized", (), True),
    ("HORROR", ("horror",), False),
    ("Sci-Fi!", ("science-fiction",), False),
    ("“funny”", ("comedy",), False),
    # typos
    ("horor", ("horror",), False),
    ("documentry", ("documentary",), False),
    ("thriler", ("thriller",), False),
    ("fantasie", ("fantasy",), False),
    ("comdy", ("comedy",), False),
    ("mistery", ("mystery",), False),
    # French
    ("quelque chose de drôle", ("comedy",), False),
    ("quelque chose de drole", ("comedy",), False),
    ("une comédie", ("comedy",), False),
    ("un film d'horreur", ("horror",), False),
    ("effrayant", ("horror",), False),
    ("science-fiction", ("science-fiction",), False), ("un polar", ("crime",), False),
    ("un documentaire", ("documentary",), False),
    ("dessin animé pour enfants", ("animation", "children"), False),
    ("une histoire d'amour", ("romance",), False),
    ("un drame émouvant", ("drama",), False),
    ("quelque chose de court", (), True),
    ("aventure", ("adventure",), False),
    ("guerre", ("war",), False),
    ("une série policière courte", ("crime",), True),
    ("fantastique", ("fantasy",), False),
    # German
    ("etwas Lustiges", ("comedy",), False),
    ("Komödie", ("comedy",), False),
    ("Krimi, aber kurz", ("crime",), True),
    ("gruselig", ("horror",), False),
    ("ein Horrorfilm", ("horror",), False),
    ("Science-Fiction bitte", ("science-fiction",), False),
    ("Dokumentation über Geschichte", ("documentary", "history"), False),
    ("Zeichentrick für Kinder", ("animation", "children"), False),
    ("spannend", ("thriller",), False),
    ("Liebesgeschichte", ("romance",), False),
    ("Abenteuer", ("adventure",), False),
    ("Krieg", ("war",), False),
    ("traurig", ("drama",), False),
    ("Märchen", ("fantasy",), False),
    # Spanish
    ("algo de miedo", ("horror",), False),
    ("una comedia", ("comedy",), False),
    ("algo divertido", ("comedy",), False),
    ("ciencia ficción", ("science-fiction",), False),
    ("un documental", ("documentary",), False),
    ("dibujos animados", ("animation",), False),
    ("una historia de amor", ("romance",), False),
    ("algo corto y gracioso", ("comedy",), True),
    ("policíaco", ("crime",), False),
    ("misterio", ("mystery",), False),
    ("aventuras", ("adventure",), False),
    ("fantasía con dragones", ("fantasy",), False),
    ("suspenso", ("thriller",), False),
    # Japanese
    ("怖い", ("horror",), False),
    ("ホラー", ("horror",), False),
    ("怖いアニメが見たい", ("horror", "animation"), False),
    ("笑えるやつ", ("comedy",), False),
    ("お笑い", ("comedy",), False),
    ("コメディ", ("comedy",), False),
    ("ほのぼのしたい", ("family",), False),
    ("泣けるドラマ", ("drama",), False),
    ("恋愛もの", ("romance",), False),
    ("ラブコメ", ("romance",), False),
    ("宇宙のSF", ("science-fiction",), False),
    ("ドキュメンタリー", ("documentary",), False),
    ("ミステリー", ("mystery",), False),
    ("推理もの", ("mystery",), False),
    ("刑事ドラマ", ("crime", "drama"), False),
    ("異世界ファンタジー", ("fantasy",), False),
    ("スポーツアニメ", ("sporting-event", "animation"), False),
    ("短いアニメ", ("animation",), True),
    ("サクッと見られるコメディ", ("comedy",), True),
    ("歴史もの", ("history",), False),
    ("戦争映画", ("war",), False), ("冒険", ("adventure",), False),
]

# (what a person types, the genres it must not ask for, the words said back as left out)
NEGATED: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("not scary, something funny", ("horror",), ("scary",)),
    ("pas d'horreur", ("horror",), ("horreur",)),
    ("kein Horror, lieber lustig", ("horror",), ("horror",)),
    ("sin terror", ("horror",), ("terror",)),
    ("ホラーじゃない", ("horror",), ("ホラー",)),
    ("no anime", ("animation",), ("anime",)),
]


def test_the_table_is_large() -> None:
    assert len(TABLE) + len(NEGATED) >= 100


@pytest.mark.parametrize(("text", "genres", "short"), TABLE)
def test_a_mood_reads_as_a_fan_means_it(text: str, genres: tuple[str, ...], short: bool) -> None:
    m = read_mood(text)
    assert m.genres[:len(genres)] == genres, (text, m)
    assert m.short is short, (text, m)


@pytest.mark.parametrize(("text", "absent", "said"), NEGATED)
def test_a_negated_word_asks_for_nothing_and_is_said_back(text: str, absent: tuple[str, ...],
                                                         said: tuple[str, ...]) -> None:
    m = read_mood(text)
    assert not set(absent) & set(m.genres), (text, m)
    assert m.ignored == said, (text, m)


def test_every_genre_has_words_in_every_language() -> None:
    """A genre of the vocabulary is reachable from English and from Japanese at least (the table checks the rest)."""
    for genre, words in VOCABULARY.items():
        assert any(w.isascii() for w in words), genre
        assert any(not w.isascii() for w in words) or genre in ("western", "talk-show", "news"), genre
        assert genre in read_mood(next(w for w in words if w.isascii())).genres, genre


def test_nothing_readable_reads_as_nothing() -> None:
    for text in ("", "asdfgh", "whatever you think", "42"):
        m = read_mood(text)
        assert m.genres == () and not m.short, text


async def test_free_text_the_word_lists_miss_is_read_by_the_llm_and_validated(make_engine: Any) -> None:
    """With an LLM, a mood no word list reads ("a rainy afternoon at grandmas") becomes a typed request — genres
    from our vocabulary only, a runtime bound, a service only if one is known here; what the model invents is
    dropped; garbage or an outage leaves the usual mix, said so; the word lists stay first (no call for
    `mood:horror`)."""
    answers = iter([
        json.dumps({"genres": ["Comedy", "family", "cozy-core"], "max_runtime": 30, "provider": "Netflix"}),
        json.dumps({"genres": ["documentary"], "provider": "Totally Made Up Plus"}),
        "not json at all", "still not json",
    ])

    asked: list[str] = []

    def respond(req: dict[str, Any]) -> str:
        if is_naming(req):
            return names_answer(req)
        if is_tagging(req):
            return tags_answer(req)
        if shortlist_ids(req):                                  # pick-and-explain: the engine's own order
            return json.dumps({"picks": [{"id": i, "persona_id": None, "reason": "Fits the mood."}
                                         for i in shortlist_ids(req)[:4]]})
        asked.append(user_text(req))
        return next(answers)

    async with FakeOpenAI(respond) as fake:
        engine = await make_engine(llm=fake)
        pid = await engine.person("console", "moody")
        await engine.load_sample(pid)
        calls = len(asked)
        cosy = await engine.recommend(RecommendRequest(pid, mode=Mode.MOOD, mood="a rainy afternoon at grandmas",
                                                       k=4, use_llm=False))
        assert "could not read a genre" in cosy.note                         # no LLM asked for: the word lists
        assert len(asked) == calls == 0
        cosy = await engine.recommend(RecommendRequest(pid, mode=Mode.MOOD, mood="a rainy afternoon at grandmas",
                                                       k=4))
        assert "comedy or family" in cosy.note and "under 35 min" in cosy.note and "LLM" in cosy.note, cosy.note
        assert cosy.items and all(({"comedy", "family"} & set(i.genres)) and "Netflix" in i.providers
                                  and (i.runtime or 99) <= 35 for i in cosy.items)
        made_up = await engine.recommend(RecommendRequest(pid, mode=Mode.MOOD, mood="stuff about how things are",
                                                          k=3))
        assert made_up.items and all("documentary" in i.genres for i in made_up.items)   # the invented service: dropped
        garbage = await engine.recommend(RecommendRequest(pid, mode=Mode.MOOD, mood="je ne sais quoi", k=3))
        assert garbage.items and "could not read a genre" in garbage.note
        before = len(asked)
        await engine.recommend(RecommendRequest(pid, mode=Mode.MOOD, mood="horror", k=3, use_llm=False))
        assert len(asked) == before == 4 and all("The viewer says" in a for a in asked)   # garbage: asked twice
