// Korean for Plotly's date axes and mode bar (config.locale = "ko", set by dashboard.widgets.graph).
// Dash loads plotly.js after the assets: a locale registered before it is queued in
// window.PlotlyLocales, which plotly.js registers when it loads.
(function () {
  var ko = {
    moduleType: "locale",
    name: "ko",
    dictionary: {
      "Autoscale": "자동 배율",
      "Box Select": "영역 선택",
      "Download plot as a PNG": "PNG 그림으로 내려받기",
      "Double-click to zoom back out": "두 번 클릭하면 원래 크기로",
      "Lasso Select": "자유 선택",
      "Pan": "이동",
      "Reset axes": "축 초기화",
      "Zoom": "확대",
      "Zoom in": "확대",
      "Zoom out": "축소"
    },
    format: {
      days: ["일요일", "월요일", "화요일", "수요일", "목요일", "금요일", "토요일"],
      shortDays: ["일", "월", "화", "수", "목", "금", "토"],
      months: ["1월", "2월", "3월", "4월", "5월", "6월", "7월", "8월", "9월", "10월", "11월", "12월"],
      shortMonths: ["1월", "2월", "3월", "4월", "5월", "6월", "7월", "8월", "9월", "10월", "11월", "12월"],
      date: "%Y-%m-%d",
      decimal: ".",
      thousands: ","
    }
  };
  if (typeof window.Plotly !== "undefined" && window.Plotly.register) {
    window.Plotly.register(ko);
  } else {
    window.PlotlyLocales = window.PlotlyLocales || [];
    window.PlotlyLocales.push(ko);
  }
})();
