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
    "the ingest is connected: the line has sent nothing new.": "수집은 연결되어 있으며, 라인에서 새 데이터가 없습니다.",
    "break": "휴식",
    # page headings
    "Yield per product": "제품별 수율", "Quality": "품질", "Traceability": "추적성",
    "{n} more work orders (all on the overview without ?tv=1)": "작업지시 {n}건 더 있음 (?tv=1 없는 현황 화면에 전체 표시)",
    # sources page
    "Sources": "수집 현황", "Equipment sources": "설비 데이터 수집", "Rejected input (dead letters)": "거부된 입력 (데드 레터)",
    "Received": "수신 시각", "Source": "수집원", "Port or topic": "포트 또는 토픽", "Size (bytes)": "크기 (바이트)",
    "Reason": "사유", "Raw input (start)": "원본 입력 (앞부분)", "Status": "상태", "Last message": "마지막 수신",
    "Stored": "저장", "Rejected": "거부", "Errors": "오류", "Rejected, last {m} min": "최근 {m}분 거부율", "Detail": "상세",
    "No ingest has reported yet (linemon ingest writes this every 2 s).": "아직 수집 서비스의 보고가 없습니다 (linemon ingest가 2초마다 기록).",
    "No rejected input in the last {d} days.": "최근 {d}일간 거부된 입력이 없습니다.",
    "Last {d} days, per source and reason": "최근 {d}일, 수집원·사유별", "connected": "연결됨", "reconnecting": "재연결 중",
    "stopped": "중지됨", "connecting": "연결 중", "subscribing": "구독 중", "starting": "시작 중",
    "{source}: {share} of its input rejected over the last {m} min ({rejected} of {seen})": "{source}: 최근 {m}분 입력의 {share} 거부 ({seen}건 중 {rejected}건)",
    # yield page
    "RTY": "누적 직행률(RTY)", "Final yield": "최종 수율", "Units": "대수", "Station": "공정", "FPY": "직행률",
    "Retests": "재검사", "False-call share": "오판정 비율", "No units in this period": "이 기간 생산 없음",
    "units counted by their first attempt in this period": "이 기간에 첫 검사를 받은 제품 기준",
    # QA page
    "All products": "전체 제품", "Search": "검색", "serial number or work order": "시리얼 번호 또는 작업지시",
    "Defect code": "불량 코드", "Reference designator": "부품 위치", "Top defect": "최다 불량",
    # output against plan (overview, line page)
    "Plan": "계획", "Plan by now": "현재 계획", "Done": "완료", "+/- plan": "계획 대비", "Started today": "오늘 투입",
    "Done today": "오늘 완료", "Open": "미완료", "passed": "합격", "not passed (yet)": "불합격(미완료)", "plan": "계획",
    "Output per hour at": "시간당 생산량,", "no plan loaded": "계획 없음", "units": "대",
    # figures
    "First-pass yield per product and station": "제품·공정별 직행률",
    "Rolled throughput yield and final yield": "누적 직행률과 최종 수율", "Count": "건수", "Cumulative %": "누적 %",
    "defects": "불량", "minutes": "분", "p (% failing first pass)": "p (첫 검사 불합격 %)", "centre": "중심선",
    "rule violation": "규칙 위반", "rule": "규칙", "% failing": "불합격 %", "states": "상태",
    "Stops (scheduled and unscheduled)": "정지 (계획 및 비계획)", "busy": "가공", "setup": "셋업", "down": "고장",
    "blocked": "후공정 대기", "starved": "자재 대기", "off shift": "비근무", "% of time": "시간 비율 %",
    # QA page
    "Defects by": "불량 분류:", "no confirmed defects": "확정 불량 없음", "baseline": "기준 기간", "first-pass failures at": "첫 검사 불합격,",
    "Enter a serial number or a work order.": "시리얼 번호나 작업지시를 입력하세요.", "Not in the store": "저장소에 없음",
    "Time": "시각", "Equipment": "설비", "Result": "결과", "Defects": "불량",
    # simulation page
    "Running simulations needs the engineer role.": "시뮬레이션 실행은 엔지니어 권한이 필요합니다.",
    "Plan file": "계획 파일", "Product mix": "제품 구성", "Units per product": "제품별 수량", "Lot size": "로트 크기",
    "Replications": "반복 횟수", "What-if (one KEY=VALUE per line)": "가정 변경 (한 줄에 KEY=VALUE 하나)",
    "Run": "실행", "Cancel": "취소", "Throughput per hour": "시간당 처리량", "Makespan (h)": "총 소요 시간 (h)",
    "WIP (units)": "재공 (대)", "Lead time mean (h)": "평균 리드타임 (h)", "Lead time (h)": "리드타임 (h)", "Flow factor": "흐름 계수",
    "Flow factor: lead time over the routing's raw process time. Set in the plant file ([planning] flow_factor, or a product's own), it lets the andon's plan allow for the queueing.": "흐름 계수: 리드타임 ÷ 공정 경로의 순수 가공 시간. 설비 파일([planning] flow_factor 또는 제품별)에 설정하면 안돈의 계획이 대기 시간을 반영합니다.", "Bottleneck": "병목 공정",
    "what-if − plan (paired 95 % CI)": "가정 − 계획 (대응 95 % 신뢰구간)", "replications each, seeds": "회 반복, 시드",
    "means with 95 % confidence intervals.": "평균과 95 % 신뢰구간.", "Time split": "시간 구성",
    "Enter units for at least one product.": "적어도 한 제품의 수량을 입력하세요.",
    # trends and filters
    "All lines": "전체 라인", "work order (all units of it)": "작업지시 (해당 전체 제품)", "Trend": "추이",
    "by shift": "근무조별", "by day": "일별", "by week": "주별", "all its units, whenever made": "전체 제품, 생산 시점 무관",
    "line": "라인", "RTY over its stations": "라인 공정의 누적 직행률", "Failures per week": "주별 불량",
    "Work orders against plan": "작업지시 계획 대비 실적", "Start date": "시작일", "End date": "종료일", "other": "기타", "Total": "합계", "WIP": "재공", "first attempts failed %": "첫 검사 불합격 %",
    # whole messages with named placeholders (Korean word order)
    "{station} down for {minutes} min (limit {limit}), since {since}": "{station} 고장 {minutes}분째 (한도 {limit}분), {since}부터",
    "{station} FPY this shift {fpy} (n={n}): alarm since {since} (floor {floor}, clears at {clear})": "{station} 이번 근무조 직행률 {fpy} (n={n}): {since}부터 알람 (기준 {floor}, {clear} 이상이면 해제)",
    "source {source}: {detail}": "설비 연결 {source}: {detail}", "source {source}: no message yet": "설비 연결 {source}: 수신 이력 없음",
    "source {source} silent since {since}": "설비 연결 {source}: {since} 이후 수신 없음",
    "{count} messages on topics no binding takes": "연결 설정에 없는 토픽으로 {count}건 수신", "Scrapped": "폐기",
    # QA page: p-chart and traceability
    "no units in this period": "이 기간 생산 없음",
    "no limits: the baseline ({a} to {b}, before the judged days) has {k} days with units, {m} needed": "관리 한계 없음: 판정 기간 이전의 기준 기간({a}~{b})에 생산일이 {k}일뿐이며 {m}일이 필요합니다",
    "The only serial starting with {prefix}:": "{prefix}(으)로 시작하는 유일한 시리얼:",
    "{count} serials start with {prefix}: {serials}. Type more of it.": "{prefix}(으)로 시작하는 시리얼 {count}개: {serials}. 더 입력하세요.",
    "false call": "오판정", "Measurements": "측정값",
    # yield page
    "This shift": "이번 근무조", "Previous shift": "이전 근무조", "RTY over {k} of {n} stations": "{n}개 공정 중 {k}개 공정 기준",
    "No units for work order {wo}": "작업지시 {wo}의 제품이 없습니다", "data as of": "데이터 기준 시각",
    # line page: SEMI E10
    "E10 availability": "E10 가용률", "Productive": "생산 시간", "Down": "고장", "Setup / eng.": "셋업·기술",
    "OEE (loaded time)": "OEE (부하 시간 기준)", "Main loss": "주요 손실",
    "bottleneck": "병목", "no state data in this period": "이 기간 상태 데이터 없음",
    "{station}: it waits least on the line ({share} starved or blocked)": "{station}: 라인 대기가 가장 적음 (자재·후공정 대기 {share})",
    "not one station: {stations} waited least on the line ({share} starved or blocked)": "한 공정이 아님: {stations} 공정의 라인 대기가 가장 적음 (자재·후공정 대기 {share})",
    "none: the line waited for work (even {station} waited {share} of its time)": "없음: 라인이 작업을 기다림 ({station} 공정도 시간의 {share} 대기)",
    "breakdowns": "고장", "setup and scheduled stops": "셋업·계획 정지", "standby (no line cause)": "대기 (라인 원인 아님)",
    "slower than ideal cycle": "이상 사이클보다 느림", "first-pass failures": "첫 검사 불합격",
    "no stops in this period": "이 기간 정지 없음", "nothing in this period": "이 기간 데이터 없음",
    "SEMI E10: starved and blocked are standby, not downtime. E10 availability = equipment up (not down, not in setup) / scheduled time with data; productive = running / that time. OEE = availability x performance x quality over loaded time (scheduled time less the time the line starved or blocked the station): running / loaded time x ideal cycle time x attempts / running time x first passes / attempts. Only inspection and test stations count units, so only they have an OEE.": "SEMI E10: 자재 대기와 후공정 대기는 대기(standby)이며 고장이 아닙니다. E10 가용률 = 설비 가동 가능 시간(고장·셋업 제외) ÷ 데이터가 있는 계획 시간, 생산 시간 = 가동 ÷ 그 시간. OEE = 시간 가동률 × 성능 가동률 × 양품률, 부하 시간(계획 시간에서 라인 때문에 자재·후공정 대기한 시간을 뺀 시간) 기준: 가동 ÷ 부하 시간 × 이상 사이클 × 검사 횟수 ÷ 가동 시간 × 첫 합격 ÷ 검사 횟수. 검사·시험 공정만 대수를 세므로 그 공정만 OEE가 있습니다.",
}  # fmt: skip


def t(text: str, lang: str | None) -> str:
    """`text` in `lang` (English when there is no translation)."""
    if lang == "ko":
        return KO.get(text, text)
    return text


def lang_of(value: str | None) -> str:
    return value if value in LANGS else "en"
