"""The password policy (issue 14, item 11): one function says whether a new password may be used.

Used wherever a password is set: a user created by an administrator or by ``matcher user add``,
a user's own change, an administrator's reset (``web.services.accounts.set_password``). A password is refused
when, after removing spaces at either end, it is

- shorter than ``MIN_LENGTH`` or longer than ``MAX_LENGTH`` characters;
- made of fewer than ``MIN_DISTINCT`` different characters ("aaaaaaaaaa", "1212121212");
- one of the common passwords in ``common_passwords.txt`` (shipped with the code), compared
  case-, diacritics- and punctuation-insensitively and also with digits added before or after
  ("Matkhau@123", "password2026", "caobang123");
- the user name, with or without digits and punctuation around it.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from models.text import fold

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_DISTINCT = 3
LIST_FILE = Path(__file__).with_name("common_passwords.txt")
_DIGITS_AT_ENDS = re.compile(r"^\d+|\d+$")


def _key(text: str) -> str:
    """The form compared: folded (case, diacritics), without punctuation or spaces."""
    return fold(text).replace(" ", "")


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = LIST_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(_key(line) for line in lines if line.strip() and not line.lstrip().startswith("#"))


def password_problem(password: str | None, username: str | None = None) -> tuple[str, str] | None:
    """Why ``password`` may not be used, as (Vietnamese, English), or None when it may."""
    text = (password or "").strip()
    if len(text) < MIN_LENGTH:
        return (f"Mật khẩu phải có ít nhất {MIN_LENGTH} ký tự (không tính khoảng trắng ở đầu và cuối).",
                f"The password must have at least {MIN_LENGTH} characters (not counting spaces at either end).")
    if len(text) > MAX_LENGTH:
        return (f"Mật khẩu dài tối đa {MAX_LENGTH} ký tự.", f"The password may have at most {MAX_LENGTH} characters.")
    if len(set(text)) < MIN_DISTINCT:
        return (f"Mật khẩu phải có ít nhất {MIN_DISTINCT} ký tự khác nhau.",
                f"The password must contain at least {MIN_DISTINCT} different characters.")
    key = _key(text)
    name = _key(username or "")
    if name and (not key.replace(name, "") or key.replace(name, "").isdigit()):
        return ("Mật khẩu không được dựa trên tên đăng nhập.", "The password must not be based on the user name.")
    listed = common_passwords()
    if key in listed or _DIGITS_AT_ENDS.sub("", key) in listed or not key:
        return ("Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác (ví dụ một câu ngắn dễ nhớ).",
                "This password is too common and easy to guess; choose another one (a short sentence you "
                "remember, for example).")
    return None
