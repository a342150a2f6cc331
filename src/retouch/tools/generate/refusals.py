"""Responsible use: prompts Retouch refuses, and the stricter list for a generative mask over a person.

Refused always: nudity, undressing, sexual content and face swapping. Refused as well when a person is inside the
region a model is asked to make (a fill tool's mask over a detected face): prompts about bodies, underwear and
swimwear, kissing, and changing who someone is (another face, age, gender, skin).

Matching is by whole words after normalising the prompt: Unicode compatibility forms and accents folded, lower
case, digits and symbols typed for letters inside a word read as those letters ("nud3", "s3x", "n@ked"), letters
split by dots, dashes, underscores or spaces joined again ("n.u.d.e", "n u d e"), letters repeated for emphasis
squeezed ("nuuude"). Whole words keep innocent words that contain a refused one allowed (Essex, analysis,
therapist, Scunthorpe). The list does not read sense: "a naked wall" is refused like any "naked" (a model
conditioned on the word drifts towards what it usually means); "a bare wall" is not.
"""

from __future__ import annotations

import re
import unicodedata

from retouch.errors import InvalidInput

# English and the common words of French, German, Spanish, Italian and Portuguese, as normalised below.
_ALWAYS = {
    "nudity": (
        "nude", "nudes", "naked", "nakedness", "nudity", "nudist", "topless", "bottomless", "unclothed",
        "undressed", "disrobed", "nsfw", "nue", "nues", "nackt", "nackte", "nackter", "nacktheit", "desnudo",
        "desnuda", "desnudos", "desnudas", "desnudez", "nudo", "nuda", "nudi", "nudita", "nua", "nuas",
        "encuerada", "encuerado",
    ),
    "undressing": (
        "undress", "undressing", "unclothe", "disrobe", "disrobing", "stripper", "striptease", "declothe",
        "declothed", "clothesless", "deshabiller", "deshabille",
        "ausziehen", "ausgezogen", "desnudar", "desvestir", "desvestida", "spogliare", "spogliata", "despir",
        "despida",
    ),
    "sexual content": (
        "sex", "sexy", "sexual", "sexually", "porn", "porno", "pornographic", "pornography", "erotic", "erotica",
        "hentai", "xxx", "nipple", "nipples", "genital", "genitals", "penis", "vagina", "vulva", "orgasm",
        "intercourse", "masturbate", "masturbating", "masturbation", "fetish", "bdsm", "lewd", "onlyfans",
        "sexe", "sexuel", "sexuelle", "erotique", "sexuell", "erotisch", "sexo", "erotico", "sesso", "sessuale",
        "pornografia", "nichons",
    ),
    "face swapping": (
        "faceswap", "deepfake", "deepfakes", "face swap", "swap face", "swap faces", "swap the face",
        "swap his face", "swap her face", "swap their faces", "replace face", "replace the face",
        "replace his face", "replace her face", "face replacement", "face transplant", "put the face of",
        "with the face of", "echange de visage", "gesichtstausch", "cambio de cara", "intercambio de caras",
        "scambio di volti", "troca de rosto",
    ),
}
# Added when the region to make covers a person.
_NEAR_PEOPLE = {
    "a change to a person's body": (
        "body", "bodies", "skin", "bare", "chest", "breast", "breasts", "boob", "boobs", "butt", "buttocks",
        "bum", "thigh", "thighs", "cleavage", "curvy", "busty", "abs", "shirtless", "barefoot", "flesh",
        "underwear", "lingerie", "bra", "bras", "panties", "thong", "bikini", "swimsuit", "swimwear", "bathing",
        "see through", "transparent", "wet", "kiss", "kissing", "bed", "shower", "seductive", "sensual",
        "corps", "peau", "korper", "haut", "cuerpo", "piel", "corpo", "pelle", "pele", "maillot", "bikinis",
        "seins", "brust", "tetas", "pechos", "seios", "culo",
        "sous vetements", "unterwasche", "ropa interior", "biancheria intima", "roupa interior",
    ),
    "a change to who a person is": (
        "face", "faces", "younger", "older", "aged", "age", "gender", "race", "ethnicity", "celebrity",
        "identity", "lookalike", "look like", "looks like", "visage", "gesicht", "cara", "rostro", "volto",
        "viso", "rosto",
    ),
}
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEET_WORD = re.compile(r"[a-z0-9@$]*[a-z][a-z0-9@$]*")  # read as letters only inside words: "512" stays a number
_PUNCTUATED = re.compile(r"\b(?:[a-z][._\-*+]+){2,}[a-z]\b")  # n.u.d.e, s-e-x, n_u_d_e
_SPACED = re.compile(r"\b[a-z](?: [a-z]\b){2,}")  # n u d e: a run of one-letter words
_REPEATS = re.compile(r"([a-z])\1{2,}")  # nuuude -> nude (three or more of a letter: no English word has them)


class PromptRefused(InvalidInput):
    """A prompt asks for something Retouch does not make."""


def check_prompt(prompt: str, *, person_in_region: bool = False) -> None:
    """Raise PromptRefused (one line: what kind of request, and why) when ``prompt`` asks for nudity, undressing,
    sexual content or face swapping, or, with ``person_in_region``, for a change to a person's body or identity."""
    reason = refusal_reason(prompt, person_in_region=person_in_region)
    if reason is not None:
        where = " over a person" if reason in _NEAR_PEOPLE else ""
        raise PromptRefused(
            f"this prompt is refused: Retouch does not make {reason}{where} (matched '{_matched(prompt, reason)}')"
        )


def refusal_reason(prompt: str, *, person_in_region: bool = False) -> str | None:
    """The kind of request ``prompt`` is refused as, or None when it is allowed."""
    lists = {**_ALWAYS, **(_NEAR_PEOPLE if person_in_region else {})}
    for form in _forms(prompt):
        for reason, words in lists.items():
            if any(_contains(form, word) for word in words):
                return reason
    return None


def _matched(prompt: str, reason: str) -> str:
    words = {**_ALWAYS, **_NEAR_PEOPLE}[reason]
    for form in _forms(prompt):
        for word in words:
            if _contains(form, word):
                return word
    return reason


def _contains(text: str, word: str) -> bool:
    return f" {word} " in text


def _forms(prompt: str) -> list[str]:
    """The prompt normalised (see the module's notes), as " word word " strings: as typed, and with repeated
    letters squeezed."""
    folded = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode("ascii").lower()
    folded = _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), folded)
    folded = _PUNCTUATED.sub(lambda m: re.sub(r"[._\-*+]", "", m.group(0)), folded)
    words = " ".join(re.findall(r"[a-z]+", folded))
    squeezed = _REPEATS.sub(r"\1", words)
    # a spaced run may start or end with a real one-letter word ("a n u d e"): every stretch of it is a candidate
    spaced = [run.replace(" ", "") for run in _SPACED.findall(words)]
    stretches = {r[i:j] for r in spaced for i in range(len(r)) for j in range(i + 3, len(r) + 1)}
    return [f" {words} ", f" {squeezed} ", f" {' '.join(sorted(stretches))} "]
