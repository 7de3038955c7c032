"""``mood:"…"`` read without an LLM: every genre of the catalogue's vocabulary, with the words people use for it in
English, French, German, Spanish and Japanese, and "short" (episodes under ``SHORT_MINUTES``).

Latin-script text is compared word by word after folding case and accents ("drôle", "Drole" and "DRÔLE" are one
word; "science fiction" and "sci-fi" are phrases); Japanese, written without spaces, by the words it contains
(「怖いアニメ」 holds 怖い and アニメ). A word of five letters or more that misses by a typo ("horor", "documentry")
is matched by its closest vocabulary word (``rapidfuzz``, a high cut-off), so a slip never reads as "no genre".
A negated word ("not scary", "pas d'horreur", "kein Horror", "sin terror") asks for nothing and is reported.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from engine.values.i18n import _
from engine.values.meta import ShowMeta

SHORT_MINUTES = 35

# genre slug -> words and phrases (English, French, German, Spanish, Japanese), any form a person would type
VOCABULARY: dict[str, tuple[str, ...]] = {
    "comedy": (
        "comedy", "comedies", "funny", "laugh", "laughs", "hilarious", "humor", "humour", "sitcom", "silly", "witty",
        "comédie", "comedie", "drôle", "drole", "marrant", "rigolo", "rire", "humoristique",
        "komödie", "komodie", "lustig", "witzig", "lachen", "humorvoll",
        "comedia", "gracioso", "divertido", "chistoso", "risa", "reír", "reir",
        "コメディ", "コメディー", "お笑い", "笑える", "笑い", "面白い", "おもしろい", "ギャグ", "喜劇"),
    "crime": (
        "crime", "criminal", "gangster", "gangsters", "mafia", "heist", "cop", "cops", "police", "detective",
        "murder", "true crime", "dark", "gritty", "noir", "policier", "sombre", "criminel", "polar",
        "enquête", "enquete", "krimi", "kriminal",
        "verbrechen", "polizei", "crimen", "policíaco", "policiaco", "policial", "detectives",
        "犯罪", "刑事", "警察", "ミステリー犯罪", "事件"),
    "thriller": (
        "thriller", "thrillers", "dark", "tense", "suspense", "suspenseful", "gripping",
        "edge of my seat", "nail-biting",
        "palpitant", "haletant", "spannend", "spannung", "nervenkitzel", "intriga", "tensión", "tension",
        "suspenso", "サスペンス", "スリラー", "ハラハラ", "ドキドキ"),
    "horror": (
        "horror", "scary", "spooky", "creepy", "frightening", "terrifying", "terror", "fright", "halloween",
        "horreur", "effrayant", "épouvante", "epouvante", "flippant", "peur", "gruselig", "grusel", "unheimlich",
        "schaurig", "miedo", "terrorífico", "terrorifico", "espeluznante", "de miedo",
        "ホラー", "怖い", "こわい", "恐怖", "怪談", "ゾッと"),
    "science-fiction": (
        "science fiction", "science-fiction", "sci-fi", "scifi", "sf", "space", "future", "futuristic", "aliens",
        "robots", "cyberpunk", "dystopia", "dystopian", "time travel", "cerebral", "mind-bending", "smart",
        "espace", "futur", "futuriste", "dystopie", "wissenschaft", "zukunft", "weltraum", "ciencia ficción",
        "ciencia ficcion", "ciencia-ficción", "espacio", "futuro", "futurista",
        "エスエフ", "SF", "宇宙", "未来", "ロボット", "近未来"),
    "fantasy": (
        "fantasy", "magic", "magical", "dragons", "wizards", "epic", "mythical", "fairy tale",
        "fantastique", "fantaisie", "magie", "magique", "dragon", "magisch", "zauber", "drachen", "märchen",
        "marchen", "fantasie", "fantasía", "fantasia", "mágico", "magico", "dragones",
        "ファンタジー", "魔法", "異世界", "ドラゴン"),
    "documentary": (
        "documentary", "documentaries", "docuseries", "docu", "real story", "true story", "learn", "educational",
        "nature", "smart",
        "documentaire", "documentaires", "apprendre", "dokumentation", "doku", "dokumentarfilm", "lernen",
        "documental", "documentales", "aprender", "ドキュメンタリー", "記録", "教養"),
    "animation": (
        "animation", "animated", "anime", "cartoon", "cartoons", "dessin animé", "dessin anime", "dessins animés",
        "animé", "zeichentrick", "animiert", "animación", "animacion", "animado", "dibujos animados",
        "アニメ", "アニメーション", "漫画", "まんが"),
    "romance": (
        "romance", "romantic", "romcom", "rom-com", "love story", "love", "dating",
        "romantique", "amour", "histoire d'amour", "historia de amor", "romantisch", "liebe",
        "liebesgeschichte", "romántico", "romantico", "amor",
        "ロマンス", "恋愛", "ラブストーリー", "恋", "ラブコメ"),
    "drama": (
        "drama", "dramas", "dramatic", "emotional", "moving", "sad", "tearjerker", "cry",
        "drame", "dramatique", "émouvant", "emouvant", "triste", "pleurer", "dramatisch", "bewegend", "traurig",
        "weinen", "dramático", "dramatico", "emotivo", "llorar", "ドラマ", "泣ける", "感動", "切ない"),
    "action": (
        "action", "action-packed", "explosions", "fights", "fighting", "martial arts", "superhero", "superheroes",
        "combat", "bagarre", "super-héros", "actionreich", "kampf", "superheld", "acción", "accion", "peleas",
        "superhéroes", "アクション", "バトル", "戦闘", "ヒーロー"),
    "adventure": (
        "adventure", "adventures", "quest", "journey", "aventure", "aventures", "abenteuer", "aventura",
        "aventuras", "冒険", "アドベンチャー"),
    "family": (
        "family", "wholesome", "cozy", "cosy", "comfort", "feel-good", "feelgood", "heartwarming", "light",
        "familial", "famille", "réconfortant", "reconfortant", "doux", "familie", "familienfreundlich",
        "gemütlich", "gemutlich", "herzerwärmend", "familiar", "familia", "acogedor", "reconfortante",
        "家族", "ほのぼの", "癒し", "癒やし", "心温まる"),
    "children": (
        "kids", "kid", "children", "childrens", "for kids", "enfants", "pour enfants", "kinder", "für kinder",
        "fur kinder", "niños", "ninos", "infantil", "子供", "子ども", "キッズ", "児童"),
    "mystery": (
        "mystery", "mysteries", "whodunit", "puzzle", "enigma", "mystère", "mystere", "énigme", "enigme",
        "rätsel", "ratsel", "geheimnis", "misterio", "enigma", "ミステリー", "ミステリ", "謎", "推理"),
    "history": (
        "history", "historical", "period", "historique", "geschichte", "historisch", "histórico", "historico",
        "歴史", "時代劇"),
    "war": (
        "war", "military", "wwii", "guerre", "militaire", "krieg", "militär", "militar", "guerra", "bélico",
        "belico", "戦争", "軍事"),
    "western": ("western", "westerns", "cowboy", "cowboys", "far west", "wild west", "oeste", "西部劇"),
    "music": (
        "music", "musical", "musicals", "band", "concert", "musique", "comédie musicale", "musik", "musikalisch",
        "música", "musica", "音楽", "ミュージカル", "アイドル"),
    "reality": (
        "reality", "reality tv", "reality show", "competition", "cooking show", "téléréalité", "teleréalité",
        "telerealite", "realityshow", "reality-tv", "telerrealidad", "リアリティ", "リアリティー", "バラエティ"),
    "sporting-event": (
        "sport", "sports", "football", "soccer", "basketball", "racing", "sportif", "fußball", "fussball",
        "deporte", "deportes", "fútbol", "futbol", "スポーツ", "サッカー", "野球"),
    "news": ("news", "current affairs", "actualités", "actualites", "nachrichten", "noticias", "ニュース", "報道"),
    "talk-show": ("talk show", "talk-show", "late night", "late-night", "talkshow", "トークショー", "トーク番組"),
    "soap": ("soap", "soap opera", "soaps", "telenovela", "feuilleton", "seifenoper", "昼ドラ"),
}
SHORT = ("short", "quick", "bite-sized", "bitesize", "lunch", "brief", "court", "courte", "rapide", "kurz",
         "kurze", "schnell", "corto", "corta", "breve", "rápido", "rapido", "短い", "短め", "サクッと", "さくっと",
         "ショート", "すぐ")
NEGATIONS = ("not", "no", "without", "nothing", "pas", "sans", "aucun", "kein", "keine", "keinen", "nicht",
             "ohne", "sin", "nada", "ni")
JA_NEGATION = ("じゃない", "以外", "なし", "無し", "ない")


def fold(text: str) -> str:
    """Case, width and accents folded (Japanese kept as it is)."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c if ord(c) >= 0x250 else "".join(x for x in unicodedata.normalize("NFKD", c)
                                                    if not unicodedata.combining(x)) for c in t)


def _has_cjk(s: str) -> bool:
    return any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in s)


_WORDS: dict[str, tuple[str, ...]] = {}   # folded word or phrase -> genres ("dark": crime and thriller)
_CJK: list[tuple[str, tuple[str, ...]]] = []   # Japanese words, longest first
for _genre, _words in VOCABULARY.items():
    for _w in _words:
        _k = fold(_w)
        if _has_cjk(_k):
            _CJK.append((_k, (_genre,)))
        elif _genre not in _WORDS.get(_k, ()):
            _WORDS[_k] = (*_WORDS.get(_k, ()), _genre)
_CJK.sort(key=lambda x: -len(x[0]))
_SHORT = {fold(w) for w in SHORT if not _has_cjk(w)}
_SHORT_CJK = [w for w in SHORT if _has_cjk(w)]
_PHRASES = sorted((w for w in _WORDS if " " in w or "-" in w), key=len, reverse=True)
_SINGLE = [w for w in _WORDS if " " not in w and len(w) >= 5]
TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


@dataclass(frozen=True, slots=True)
class Mood:
    """How a mood was read: the genres it asks for and whether episodes must be short. A pick satisfies it only
    if it has one of the genres and, when short, a known runtime within ``SHORT_MINUTES``."""
    text: str
    genres: tuple[str, ...]
    short: bool
    ignored: tuple[str, ...] = ()         # negated words, said back to the person

    def fits(self, m: ShowMeta) -> bool:
        if self.genres and not set(self.genres) & set(m.genres):
            return False
        return not self.short or (m.runtime is not None and 0 < m.runtime <= SHORT_MINUTES)

    @property
    def words(self) -> str:
        parts = [_(" or ").join(_(g).replace("-", " ") for g in self.genres)] if self.genres else []
        if self.short:
            parts.append(_("episodes under {n} min").format(n=SHORT_MINUTES))
        return ", ".join(parts)


def read_mood(text: str) -> Mood:
    """The genres (in the order the text names them) and shortness a free-text mood asks for."""
    t = fold(text).strip(" \"'“”「」")
    found: list[tuple[int, int, str]] = []
    ignored: list[str] = []
    taken = [False] * len(t)

    def take(start: int, end: int, genres: tuple[str, ...], word: str) -> None:
        if any(taken[start:end]):
            return
        for i in range(start, end):
            taken[i] = True
        before = t[max(0, start - 14):start]
        negated = bool(set(TOKEN.findall(before)[-2:]) & set(NEGATIONS)) or t[end:end + 4].startswith(JA_NEGATION)
        if negated:
            ignored.append(word)
        else:
            found.extend((start, n, g) for n, g in enumerate(genres))

    for phrase in _PHRASES:                                  # phrases first: "science fiction", "dessin anime"
        for m in re.finditer(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", t):
            take(m.start(), m.end(), _WORDS[phrase], phrase)
    for word, gs in _CJK:
        for m in re.finditer(re.escape(word), t):
            take(m.start(), m.end(), gs, word)
    short = any(w in t for w in _SHORT_CJK) or any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", t)
                                                  for w in _SHORT if not w.isalnum())
    for m in TOKEN.finditer(t):
        w = re.sub(r"^(d|l|qu|j|n|s|c)'", "", m.group().replace("’", "'"))
        if any(taken[m.start():m.end()]):
            continue
        if w in _SHORT:
            short = True
            continue
        genres = _WORDS.get(w) or _WORDS.get(w.rstrip("s"))
        if genres is None and len(w) >= 7:          # a compound: "horrorfilm", "krimiserie", "sciencefiction"
            genres = next((_WORDS[v] for v in _SINGLE if w.startswith(v)), None)
        if genres is None and len(w) >= 5 and w not in NEGATIONS:
            # a typo drops or swaps a letter ("horor", "mistery"); a longer word is another word ("lieber")
            near = process.extractOne(w, [v for v in _SINGLE if len(v) >= len(w)], scorer=fuzz.ratio,
                                      score_cutoff=85)
            genres = _WORDS[near[0]] if near else None
        if genres is not None:
            take(m.start(), m.end(), genres, w)
    out: list[str] = []
    for _at, _len, g in sorted(found):
        if g not in out:
            out.append(g)
    return Mood(text, tuple(out), short, tuple(ignored))
