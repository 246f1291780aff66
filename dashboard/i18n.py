"""Korean and English labels. English text is the key (like gettext), so a missing Korean entry
shows English rather than nothing; the language travels in the URL (`?lang=ko`)."""

from __future__ import annotations

LANGS = {"en": "EN", "ko": "한국어"}

KO = {
    # navigation and common
    "Overview": "현황", "Yield": "수율", "Line": "라인", "QA": "품질", "Simulation": "시뮬레이션",
    "times in": "시간대", "Today": "오늘", "Yesterday": "어제", "Last 7 days": "최근 7일", "Last 30 days": "최근 30일",
    "Custom": "사용자 지정",
    # overview
    "Line status": "라인 상태", "Alarms": "알람", "No active alarms": "활성 알람 없음", "shift": "근무조",
    "none scheduled": "근무 없음", "newest data": "최신 데이터", "no data yet": "데이터 없음",
    "Running": "가동", "Starved": "자재 대기", "Blocked": "후공정 대기", "Standby": "대기", "Setup": "셋업",
    "Planned stop": "계획 정지", "DOWN": "고장", "Engineering": "엔지니어링", "Not scheduled": "비가동 시간",
    "No data": "데이터 없음", "for": "", "min": "분", "h": "시간", "FPY shift": "근무조 직행률",
    "Product": "제품", "Work order": "작업지시", "Started": "투입", "Completed (good)": "완료(양품)",
    "In process": "재공", "No units today": "오늘 생산 없음",
    "STALE": "데이터 중단", "no data since": "마지막 데이터", "no data has arrived yet": "아직 데이터가 없습니다",
    "figures below are not live.": "아래 수치는 실시간이 아닙니다.",
    "down for": "고장 지속", "limit": "한도", "FPY this shift": "이번 근무조 직행률", "below": "기준 미만",
    "source": "설비 연결", "silent since": "수신 없음, 마지막", "no message yet": "수신 이력 없음",
    "messages on topics no binding takes": "건, 연결 설정에 없는 토픽으로 수신",
    # page headings
    "Yield per product": "제품별 수율", "Quality": "품질", "Traceability": "추적성",
    # yield page
    "RTY": "누적 직행률(RTY)", "Final yield": "최종 수율", "Units": "대수", "Station": "공정", "FPY": "직행률",
    "Retests": "재검사", "False-call share": "오판정 비율", "No units in this period": "이 기간 생산 없음",
    "units counted by their first attempt in this period": "이 기간에 첫 검사를 받은 제품 기준",
    # line page
    "Availability (running / scheduled time)": "가동률 (가동 / 계획 시간)", "OEE": "설비종합효율(OEE)",
    "Availability": "시간 가동률", "Performance": "성능 가동률",
    "OEE of the inspection and test stations": "검사·시험 공정의 설비종합효율",
    # QA page
    "All products": "전체 제품", "Search": "검색", "serial number or work order": "시리얼 번호 또는 작업지시",
    "Defect code": "불량 코드", "Reference designator": "부품 위치", "Top defect": "최다 불량",
}  # fmt: skip


def t(text: str, lang: str | None) -> str:
    """`text` in `lang` (English when there is no translation)."""
    if lang == "ko":
        return KO.get(text, text)
    return text


def lang_of(value: str | None) -> str:
    return value if value in LANGS else "en"
