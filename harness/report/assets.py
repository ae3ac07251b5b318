"""The report page's stylesheet and its column-sorting script (``harness.report.page`` inlines
both, so the page stays one self-contained file)."""

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1500px;
 padding:0 1em;color:#1b1b1b}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
.smoke{background:#b00020;color:#fff;padding:.4em .8em;font-weight:bold}
table{border-collapse:collapse;margin:.6em 0;font-variant-numeric:tabular-nums;font-size:13px}
th,td{border-bottom:1px solid #e3e3e3;padding:.25em .45em;text-align:right;white-space:nowrap}
th{background:#f3f4f6;border-bottom:2px solid #999}
td.lead,th.lead{text-align:left}
tr.reference td{color:#555;background:#fafafa;font-style:italic}
tr.paper td{color:#555;background:#f6f8ff}
tr.first-method td{border-top:2px solid #999}
tr.block td{border-top:3px double #666}
td[title]{cursor:help}
table.main td{white-space:normal}table.main td.lead{white-space:nowrap}
table.comparisons th{white-space:normal;vertical-align:bottom}
.wide{overflow-x:auto;max-width:100%}
.caption,.notes{max-width:75em;color:#333}
.figure{margin:1em 0}.figure img{max-width:100%;border:1px solid #eee}
dl.provenance{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dl.provenance dt{font-weight:bold}dl.provenance dd{margin:0;font-family:ui-monospace,monospace;font-size:.9em}
th.sortable{cursor:pointer}th.sortable:after{content:" ⇅";color:#888}
"""

SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function(table){
 table.querySelectorAll("th").forEach(function(th, col){
  th.classList.add("sortable");
  th.addEventListener("click", function(){
   var body = table.tBodies[0], rows = Array.from(body.rows), up = th.dataset.up !== "1";
   rows.sort(function(a, b){
    var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
    if (x === "" || y === "") return (x === "") - (y === "");       // undefined values last, both ways
    var nx = parseFloat(x), ny = parseFloat(y);
    var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
    return up ? c : -c;});
   rows.forEach(function(r){body.appendChild(r);}); th.dataset.up = up ? "1" : "0";});});});
"""
