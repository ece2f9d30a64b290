"""Which public support a worker may qualify for (DOMAIN.md, "Support for poor and
ethnic-minority workers"), shown to the counsellor as hints to check, never as a decision."""

from __future__ import annotations

from models import Worker

MAJORITY = {"kinh", "hoa"}


def support_for(w: Worker) -> list[tuple[str, str]]:
    hints: list[tuple[str, str]] = []
    ethnic_minority = bool(w.ethnicity) and w.ethnicity.strip().lower() not in MAJORITY
    poor = w.household in ("poor", "near_poor")
    if poor or ethnic_minority:
        # National target programme for sustainable poverty reduction, Project 4 sub-project 2;
        # Circular 46/2022/TT-BTC: language training and costs for poor / ethnic-minority workers.
        hints.append((
            "Hỗ trợ học ngoại ngữ và chi phí đi làm việc ở nước ngoài (Dự án 4, tiểu dự án 2; Thông tư 46/2022/TT-BTC).",
            "Language training and departure costs (Project 4 sub-project 2; Circular 46/2022/TT-BTC).",
        ))
    if poor or ethnic_minority or w.disadvantaged_commune:
        hints.append((
            "Vay vốn Ngân hàng Chính sách xã hội để đi làm việc ở nước ngoài.",
            "A loan from the Social Policy Bank for working abroad.",
        ))
        # Decree 338/2025/ND-CP Art 30: orientation course support.
        hints.append((
            "Hỗ trợ khóa bồi dưỡng kiến thức cần thiết trước khi đi (Nghị định 338/2025/NĐ-CP, Điều 30).",
            "Support for the pre-departure orientation course (Decree 338/2025/ND-CP Art 30).",
        ))
    if ethnic_minority or w.disadvantaged_commune:
        hints.append((
            "Được cộng điểm ưu tiên khi tuyển chọn trong các chương trình công (người dân tộc thiểu số, vùng khó khăn).",
            "Extra selection points in public programmes (ethnic minority, disadvantaged area).",
        ))
    return hints
