"""The subset of OData query options Microsoft Graph serves for applications and service principals.

``$filter``: ``prop eq 'v'`` (also ``true``/``false``/``null``), ``prop in ('a', 'b')``, ``startswith(prop, 'v')``,
``coll/any(x:x eq 'v')``, joined with ``and``/``or`` and parentheses. Anything else raises FilterError, which Graph
answers with 400 ``Request_UnsupportedQuery``: an unsupported clause must never be silently ignored.
"""

import re

_TOKEN_RE = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),:])|(?P<word>[A-Za-z_$@][A-Za-z0-9_./$@-]*))")


class FilterError(Exception):
    pass


def _tokens(text):
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise FilterError("Syntax error at position %d in '%s'." % (pos, text))
        pos = match.end()
        if match.group("str") is not None:
            out.append(("str", match.group("str")[1:-1].replace("''", "'")))
        elif match.group("punct") is not None:
            out.append(("punct", match.group("punct")))
        else:
            out.append(("word", match.group("word")))
    return out


class _Parser:
    def __init__(self, text, strings, collections, booleans):
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.strings = {name.lower(): name for name in strings}
        self.collections = {name.lower(): name for name in collections}
        self.booleans = {name.lower(): name for name in booleans}

    def _peek(self, offset=0):
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else (None, None)

    def _take(self, kind=None, value=None):
        token = self._peek()
        if token[0] is None or (kind and token[0] != kind) or (value and (token[1] or "").lower() != value):
            raise FilterError("Invalid filter clause: expected %s in '%s'." % (value or kind, self.text))
        self.pos += 1
        return token[1]

    def _keyword(self, word):
        token = self._peek()
        return token[0] == "word" and token[1].lower() == word

    def parse(self):
        if not self.tokens:
            raise FilterError("The $filter expression is empty.")
        predicate = self._or()
        if self.pos != len(self.tokens):
            raise FilterError("Unsupported or invalid query filter clause: '%s'." % self.text)
        return predicate

    def _or(self):
        parts = [self._and()]
        while self._keyword("or"):
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda obj: any(p(obj) for p in parts))

    def _and(self):
        parts = [self._factor()]
        while self._keyword("and"):
            self.pos += 1
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else (lambda obj: all(p(obj) for p in parts))

    def _string_prop(self, name):
        prop = self.strings.get(name.lower())
        if prop is None:
            raise FilterError("Unsupported or invalid query filter clause specified for property '%s'." % name)
        return prop

    def _factor(self):
        kind, value = self._peek()
        if (kind, value) == ("punct", "("):
            self.pos += 1
            inner = self._or()
            self._take("punct", ")")
            return inner
        if kind != "word":
            raise FilterError("Unsupported or invalid query filter clause: '%s'." % self.text)
        lower = value.lower()
        if lower == "startswith":
            self.pos += 1
            self._take("punct", "(")
            prop = self._string_prop(self._take("word"))
            self._take("punct", ",")
            prefix = self._take("str").lower()
            self._take("punct", ")")
            return lambda obj: isinstance(obj.get(prop), str) and obj[prop].lower().startswith(prefix)
        if lower.endswith("/any"):
            self.pos += 1
            prop = self.collections.get(lower[:-len("/any")])
            if prop is None:
                raise FilterError("Unsupported or invalid query filter clause: 'any' on property '%s'." % value[:-len("/any")])
            self._take("punct", "(")
            var = self._take("word")
            self._take("punct", ":")
            if self._take("word").lower() != var.lower() or not self._keyword("eq"):
                raise FilterError("Only 'x:x eq ...' is supported inside any(): '%s'." % self.text)
            self.pos += 1
            wanted = self._take("str").lower()
            self._take("punct", ")")
            return lambda obj: any(isinstance(item, str) and item.lower() == wanted for item in obj.get(prop) or [])
        self.pos += 1
        operator = self._take("word").lower()
        if operator == "eq":
            if value.lower() in self.booleans and self._peek()[0] == "word" and self._peek()[1] in ("true", "false"):
                prop, wanted = self.booleans[value.lower()], self._take("word") == "true"
                return lambda obj: obj.get(prop) is wanted
            prop = self._string_prop(value)
            if self._keyword("null"):
                self.pos += 1
                return lambda obj: obj.get(prop) is None
            wanted = self._take("str").lower()
            return lambda obj: isinstance(obj.get(prop), str) and obj[prop].lower() == wanted
        if operator == "in":
            prop = self._string_prop(value)
            self._take("punct", "(")
            values = {self._take("str").lower()}
            while self._peek() == ("punct", ","):
                self.pos += 1
                values.add(self._take("str").lower())
            self._take("punct", ")")
            return lambda obj: isinstance(obj.get(prop), str) and obj[prop].lower() in values
        raise FilterError("Operator '%s' is not supported here (ne, not, ge, le and endswith need advanced queries): '%s'."
                          % (operator, self.text))


def parse_filter(text, strings, collections=(), booleans=()):
    """A predicate ``obj -> bool`` for ``text``; raises FilterError for what Graph refuses or the emulator lacks."""
    return _Parser(text, strings, collections, booleans).parse()


def search_matches(value, term):
    """Graph's tokenized ``$search``: every word of ``term`` starts a word of ``value`` (case-insensitive)."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+|(?<=[a-z])(?=[A-Z])", value or "") if w]
    words = [w.lower() for w in words]
    return all(any(w.startswith(part) for w in words) for part in re.split(r"[^0-9A-Za-z]+", term.lower()) if part)
