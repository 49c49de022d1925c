"""Off-limits posts: party politics, polemics, attacks, personal controversies (pure).

Two signals, either of which flags a post:

- **Stance cues** (French and English word lists): a party, politician or vote named *and* a
  judgement or a call ("LFI et LR votent n'importe quoi… pauvre France", "votez pour…"), or an
  attack word aimed at a person, the media, a union or an institution ("ces journalistes
  mentent", "@x est un incompétent"). A neutral mention ("rencontre avec le ministre du
  commerce", "bonne chance au nouveau gouvernement") names a subject but takes no side, and is
  not flagged: the guardrail is about stance, not subject.
- **Examples**: the post is closer to one of the pair's off-limits example phrases than the
  calibrated threshold, *and* closer to them than to neutral mentions of the same subjects.

Embedding similarity alone matches subject, not stance, which is why it needs the neutral
counter-examples; the cues alone miss paraphrases, which is why both are used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from monitor.analysis.text import fold

# Neutral mentions of the off-limits subjects: what an executive may say without taking sides.
NEUTRAL_EXAMPLES = (
    "Rencontre avec le ministre de l'Économie sur l'emploi dans nos régions",
    "Bonne chance au nouveau gouvernement pour ce défi",
    "La nouvelle loi sur l'emballage entre en vigueur : nos magasins sont prêts",
    "Les élections ont lieu dimanche : pensez à aller voter, quel que soit votre choix",
    "J'ai échangé avec des députés de tous bords sur l'apprentissage",
    "Le budget présenté aujourd'hui contient des mesures pour les PME",
    "Met the minister today to discuss jobs and training in our region",
    "The new regulation comes into force next month; our teams are ready",
    "Whatever your choice, go and vote on Sunday",
    "Congratulations to the new government, we look forward to working together",
)

# Parties, movements, politicians, votes (folded: lowercase, no accents).
_POLITICAL = [
    r"lfi", r"france insoumise", r"insoumis\w*", r"rassemblement national", r"rn",
    r"les republicains", r"lr", r"ps", r"parti socialiste", r"renaissance", r"en marche",
    r"macronie", r"macronistes?", r"eelv", r"ecologistes?", r"reconquete", r"nupes",
    r"nouveau front populaire", r"nfp", r"modem", r"horizons", r"udi", r"pcf", r"fn",
    r"front national", r"melenchon", r"le pen", r"bardella", r"zemmour", r"ciotti",
    r"wauquiez", r"retailleau", r"darmanin", r"bayrou", r"barnier", r"attal", r"hollande",
    r"sarkozy", r"macron", r"gauche", r"droite", r"extreme droite", r"extreme gauche",
    r"gouvernement", r"ministres?", r"premier ministre", r"assemblee", r"senat",
    r"deputes?", r"senateurs?", r"elysee", r"matignon", r"elections?", r"legislatives",
    r"presidentielle", r"municipales", r"europeennes", r"scrutin", r"49[ .]?3",
    r"motion de censure", r"dissolution", r"partis?", r"votent", r"voter", r"votez",
    r"democrats?", r"republicans?", r"gop", r"labour", r"tories", r"conservatives?",
    r"trump", r"biden", r"harris", r"congress", r"senate", r"parliament", r"government",
    r"ministers?", r"left wing", r"right wing", r"liberals?", r"election", r"elus",
    # policy debates that split the parties
    r"retraites", r"reforme des retraites", r"35 ?heures", r"32 ?heures", r"smic", r"isf",
    r"impot sur la fortune", r"immigration", r"loi travail", r"assurance chomage",
    r"droit de greve", r"pension reform", r"immigration bill",
]
# A judgement, a call to vote, a side taken.
_STANCE = [
    r"votez", r"je vote", r"appelle a voter", r"voter pour", r"je soutiens", r"soutenez",
    r"honte\w*", r"scandal\w*", r"n ?importe quoi", r"pauvre france", r"incompetent\w*",
    r"irresponsables?", r"demission\w*", r"demissionne\w*", r"mensonges?", r"menteurs?",
    r"mentent", r"nuls?", r"catastroph\w*", r"desastre\w*", r"ridicules?", r"clowns?",
    r"imposteurs?", r"dictature", r"ideolog\w*", r"trahison", r"traitres?", r"degagez?",
    r"une blague", r"lamentable\w*", r"pitoyable\w*", r"ruinent", r"ruine la france",
    r"detruisent", r"tous pourris", r"vote for", r"disgrace\w*", r"shame\w*",
    r"incompetent", r"must resign", r"should resign", r"liars?", r"lying", r"idiots?",
    r"ridiculous", r"disaster\w*", r"corrupt\w*", r"pathetic", r"a joke", r"destroying",
    r"censure", r"legitimite", r"vivement 20\d\d", r"changement de cap",
    r"tant que ce gouvernement", r"profiteurs", r"faire payer", r"n ont jamais",
    r"cherchez l erreur", r"demagog\w*", r"populis\w*", r"la honte", r"matraquage",
    r"assistanat", r"chasse aux", r"casseurs?", r"ayatollahs?", r"khmers? verts?",
]
# Who an attack can be aimed at, besides political actors.
_TARGET = [
    r"journalistes?", r"medias?", r"la presse", r"syndicats?", r"cgt", r"cfdt", r"fo",
    r"grevistes?", r"greves?", r"militants?", r"ecolos?", r"concurrents?", r"ce type",
    r"cette femme", r"cet homme", r"journalists?", r"the media", r"unions?", r"strikers?",
    r"activists?", r"competitors?", r"elus", r"tracts?", r"ceux qui s indignent",
    r"critiques", r"detracteurs", r"journalisme", r"votre papier", r"votre article",
    r"donneurs de lecons", r"bien pensants?", r"moralisateurs?", r"ces gens", r"reporters?",
    r"the press", r"analysts?", r"short sellers?", r"shorts",
]
_ATTACK = [
    r"honte\w*", r"scandal\w*", r"menteurs?", r"mentent", r"mensonges?", r"incompetent\w*",
    r"ridicules?", r"clowns?", r"imposteurs?", r"lamentable\w*", r"pitoyable\w*",
    r"idiots?", r"cretins?", r"minables?", r"irresponsables?", r"liars?", r"lying",
    r"pathetic", r"disgrace\w*", r"ridiculous", r"stupid\w*", r"morons?",
    r"contre verites", r"salir", r"truffe d erreurs", r"de comptoir", r"n ont jamais",
    r"sharpest tool", r"fraud\w*", r"hit pieces?", r"clueless", r"hypocri\w*", r"shameless",
    r"tissu de", r"mauvaise foi", r"n y connaissent rien", r"demagog\w*", r"mensonger\w*",
    r"charlatans?", r"torchon", r"propagande", r"propaganda", r"fake news",
]


def _compile(words: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])(?:" + "|".join(words) + r")(?![\w])")


_POLITICAL_RE = _compile(_POLITICAL)
_STANCE_RE = _compile(_STANCE)
_TARGET_RE = _compile(_TARGET)
_ATTACK_RE = _compile(_ATTACK)
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+")
_PUNCT = re.compile(r"[^\w@]+")


@dataclass(frozen=True)
class StanceCue:
    topic: str  # "party politics" or "polemics"
    subject: str  # what was named
    judgement: str  # the judgement or call


def _words(text: str) -> str:
    text = _URL.sub(" ", text)
    mentions = " ".join("@" for _ in _MENTION.findall(text))
    return " " + _PUNCT.sub(" ", fold(_MENTION.sub(" ", text))) + " " + mentions + " "


def stance_cue(text: str) -> StanceCue | None:
    """A side taken on a political subject, or an attack on someone; None for neutral posts."""
    words = _words(text)
    political = _POLITICAL_RE.search(words)
    stance = _STANCE_RE.search(words)
    if political and stance and political.group(0) != stance.group(0):
        return StanceCue("party politics", political.group(0).strip(), stance.group(0).strip())
    attack = _ATTACK_RE.search(words)
    if attack:
        target = _TARGET_RE.search(words) or political
        if target is not None or "@" in words:
            return StanceCue("polemics", target.group(0).strip() if target else "@mention",
                             attack.group(0).strip())
    return None


@dataclass(frozen=True)
class Guardrails:
    """Off-limits topics as example-phrase vectors; `topic[i]` names row i of `vectors`.
    `neutral` holds neutral mentions of the same subjects (counter-examples)."""

    vectors: np.ndarray
    topic: tuple[str, ...]
    neutral: np.ndarray | None = None

    @classmethod
    def empty(cls, dim: int) -> Guardrails:
        return cls(np.zeros((0, dim), dtype=np.float32), ())


@dataclass(frozen=True)
class OfflimitsScore:
    similarity: np.ndarray  # (n,) best similarity to an off-limits example (-inf: no examples)
    topic: tuple[str | None, ...]  # its topic
    neutral: np.ndarray  # (n,) best similarity to a neutral mention (-inf: none)


def offlimits_scores(vecs: np.ndarray, rails: Guardrails | None) -> OfflimitsScore:
    n = vecs.shape[0]
    none = np.full(n, -np.inf)
    if rails is None or rails.vectors.shape[0] == 0 or n == 0:
        return OfflimitsScore(none, (None,) * n, none)
    sims = vecs @ rails.vectors.T
    which = np.argmax(sims, axis=1)
    best = sims[np.arange(n), which].astype(np.float64)
    neutral = none
    if rails.neutral is not None and rails.neutral.shape[0]:
        neutral = np.max(vecs @ rails.neutral.T, axis=1).astype(np.float64)
    return OfflimitsScore(best, tuple(rails.topic[int(w)] for w in which), neutral)


def example_cohesion(rails: Guardrails) -> float:
    """Median similarity of each example to the nearest other example of its topic: how close
    a paraphrase of an example comes. A threshold above it cannot flag such paraphrases."""
    v, topics = rails.vectors, np.array(rails.topic)
    if v.shape[0] < 2:
        return 1.0
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    same = topics[:, None] == topics[None, :]
    best = np.max(np.where(same, sims, -np.inf), axis=1)
    best = best[np.isfinite(best)]
    return float(np.median(best)) if len(best) else 1.0
