//! Small helpers shared by the route modules: time formatting, OData query handling, ISO 8601
//! durations, responses.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::world::model::{DAY, Ms, SEC};

/// Formats a wall time as RFC 3339 (UTC, `Z`).
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// `yyyy-MM-dd HH:mm:ssZ`, the token endpoint's timestamp format.
pub(crate) fn aad_timestamp(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Graph's `innerError.date` format (no zone suffix).
pub(crate) fn graph_date(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Per-request identifiers echoed in headers and error bodies.
#[derive(Debug, Clone)]
pub(crate) struct ReqCtx {
    pub(crate) request_id: String,
    pub(crate) client_request_id: String,
    pub(crate) now: OffsetDateTime,
    /// Whether the caller sent `Prefer: include-unknown-enum-members`.
    pub(crate) include_unknown: bool,
}

/// Content type Graph uses for JSON.
pub(crate) const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A JSON response with the given status and content type.
pub(crate) fn json_response(
    status: StatusCode,
    body: &Value,
    content_type: &'static str,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = (status, bytes).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A Graph JSON response.
pub(crate) fn graph_json(status: StatusCode, body: &Value) -> Response {
    json_response(status, body, GRAPH_JSON)
}

/// A Graph error response (`{"error":{"code","message","innerError":{...}}}`).
pub(crate) fn graph_error(status: StatusCode, code: &str, message: &str, ctx: &ReqCtx) -> Response {
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": graph_date(ctx.now),
                "request-id": ctx.request_id,
                "client-request-id": ctx.client_request_id,
            }
        }
    });
    graph_json(status, &body)
}

/// Adds a header to a response, ignoring invalid values.
pub(crate) fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

/// A header value as a string, if present and valid.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The bearer token of a request.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = header_str(headers, "authorization")?;
    let (scheme, rest) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

/// Parsed query string with case-insensitive lookup; `$` prefixes are optional.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub(crate) pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// Value of an OData option (`name` without `$`), accepting `$name` or `name` in any case.
    pub(crate) fn odata(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.strip_prefix('$').unwrap_or(k).eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Percent-encodes a query value (keeps OData-friendly characters readable).
pub(crate) fn encode_query_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'\''
            | b'('
            | b')'
            | b','
            | b':'
            | b'$' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One condition of a `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    /// `path eq 'v'` or `path in ('a','b')`.
    In(String, Vec<String>),
    /// `path ne 'v'`.
    Ne(String, String),
    /// `startswith(path, 'v')`.
    StartsWith(String, String),
}

/// A conjunction of conditions (`a eq 'x' and b eq 'y'`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub(crate) conds: Vec<Cond>,
}

impl Filter {
    /// Parses the small `$filter` subset the sandbox supports.
    pub(crate) fn parse(s: &str) -> Result<Filter, String> {
        let toks = tokenize(s)?;
        let mut conds = Vec::new();
        let mut i = 0;
        loop {
            let t = toks
                .get(i)
                .ok_or("Invalid filter clause: empty expression")?;
            if let Tok::Word(w) = t {
                if w.eq_ignore_ascii_case("startswith") {
                    // startswith ( path , 'v' )
                    match (
                        toks.get(i + 1),
                        toks.get(i + 2),
                        toks.get(i + 3),
                        toks.get(i + 4),
                        toks.get(i + 5),
                    ) {
                        (
                            Some(Tok::Open),
                            Some(Tok::Word(p)),
                            Some(Tok::Comma),
                            Some(Tok::Lit(v)),
                            Some(Tok::Close),
                        ) => {
                            conds.push(Cond::StartsWith(p.clone(), v.clone()));
                            i += 6;
                        }
                        _ => return Err("Invalid filter clause: bad startswith".into()),
                    }
                } else {
                    let path = w.clone();
                    let op = match toks.get(i + 1) {
                        Some(Tok::Word(op)) => op.to_ascii_lowercase(),
                        _ => {
                            return Err(format!(
                                "Invalid filter clause: expected operator after '{path}'"
                            ));
                        }
                    };
                    match op.as_str() {
                        "eq" | "ne" => {
                            let v = match toks.get(i + 2) {
                                Some(Tok::Lit(v)) => v.clone(),
                                Some(Tok::Word(v)) => v.clone(),
                                _ => return Err("Invalid filter clause: expected a literal".into()),
                            };
                            conds.push(if op == "eq" {
                                Cond::In(path, vec![v])
                            } else {
                                Cond::Ne(path, v)
                            });
                            i += 3;
                        }
                        "in" => {
                            if toks.get(i + 2) != Some(&Tok::Open) {
                                return Err("Invalid filter clause: expected '(' after in".into());
                            }
                            let mut vals = Vec::new();
                            let mut j = i + 3;
                            loop {
                                match toks.get(j) {
                                    Some(Tok::Lit(v)) => vals.push(v.clone()),
                                    Some(Tok::Comma) => {}
                                    Some(Tok::Close) => break,
                                    _ => return Err("Invalid filter clause: bad in list".into()),
                                }
                                j += 1;
                            }
                            conds.push(Cond::In(path, vals));
                            i = j + 1;
                        }
                        _ => {
                            return Err(format!(
                                "Invalid filter clause: unsupported operator '{op}'"
                            ));
                        }
                    }
                }
            } else {
                return Err("Invalid filter clause: expected a property".into());
            }
            match toks.get(i) {
                None => break,
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("and") => i += 1,
                Some(_) => return Err("Invalid filter clause: only 'and' is supported".into()),
            }
        }
        Ok(Filter { conds })
    }

    /// Properties referenced by the filter.
    pub(crate) fn paths(&self) -> impl Iterator<Item = &str> {
        self.conds.iter().map(|c| match c {
            Cond::In(p, _) | Cond::Ne(p, _) | Cond::StartsWith(p, _) => p.as_str(),
        })
    }

    /// Evaluates the filter with `get` resolving a property path to its string value.
    pub(crate) fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.conds.iter().all(|c| match c {
            Cond::In(p, vals) => {
                let v = get(p);
                vals.iter().any(|x| match &v {
                    Some(v) => v.eq_ignore_ascii_case(x),
                    None => x == "null",
                })
            }
            Cond::Ne(p, x) => get(p).is_none_or(|v| !v.eq_ignore_ascii_case(x)),
            Cond::StartsWith(p, x) => {
                get(p).is_some_and(|v| v.to_ascii_lowercase().starts_with(&x.to_ascii_lowercase()))
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Lit(String),
    Open,
    Close,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("Invalid filter clause: unterminated string".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Lit(v));
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '\t' | '(' | ')' | ',' | '\'') {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

/// Paging parameters of a collection request.
#[derive(Debug, Clone)]
pub(crate) struct Paging {
    pub(crate) top: usize,
    pub(crate) skip: usize,
}

/// Reads `$top` (1..=max, default `default`) and `$skiptoken`.
pub(crate) fn paging(q: &Query, default: usize, max: usize) -> Result<Paging, String> {
    let top = match q.odata("top") {
        Some(t) => match t.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => n,
            Ok(n) if n > max => {
                return Err(format!(
                    "The value of $top ({n}) exceeds the maximum of {max}."
                ));
            }
            _ => return Err(format!("Invalid value '{t}' for $top.")),
        },
        None => default,
    };
    let skip = match q.odata("skiptoken") {
        Some(tok) => {
            decode_skiptoken(tok).ok_or_else(|| "The $skiptoken is invalid.".to_string())?
        }
        None => 0,
    };
    Ok(Paging { top, skip })
}

pub(crate) fn encode_skiptoken(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sbx1:{offset}"))
}

fn decode_skiptoken(tok: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(tok.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    s.strip_prefix("sbx1:")?.parse().ok()
}

/// Builds an absolute `@odata.nextLink`: `{base}{path}?{original query minus skiptoken}&$skiptoken=..`.
pub(crate) fn next_link(base: &str, path: &str, q: &Query, next_offset: usize) -> String {
    let mut parts: Vec<String> = q
        .pairs
        .iter()
        .filter(|(k, _)| {
            !k.strip_prefix('$')
                .unwrap_or(k)
                .eq_ignore_ascii_case("skiptoken")
        })
        .map(|(k, v)| format!("{}={}", encode_query_value(k), encode_query_value(v)))
        .collect();
    parts.push(format!("$skiptoken={}", encode_skiptoken(next_offset)));
    format!("{base}{path}?{}", parts.join("&"))
}

/// Applies `$select` to an entity object (keeps `id` and `@odata.*` annotations).
pub(crate) fn apply_select(v: Value, select: Option<&[String]>) -> Value {
    let Some(select) = select else { return v };
    match v {
        Value::Object(map) => {
            let kept: Map<String, Value> = map
                .into_iter()
                .filter(|(k, _)| {
                    k.starts_with("@odata")
                        || k == "id"
                        || select.iter().any(|s| s.eq_ignore_ascii_case(k))
                })
                .collect();
            Value::Object(kept)
        }
        other => other,
    }
}

/// Parses `$select` into a list of property names.
pub(crate) fn select_list(q: &Query) -> Option<Vec<String>> {
    q.odata("select").map(|s| {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    })
}

/// Parses an ISO 8601 duration into milliseconds (`P2Y` = 730 days, `P1M` = 30 days).
pub(crate) fn parse_iso_duration(s: &str) -> Option<Ms> {
    let rest = s.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return None;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let date_ms = sum_designators(date, |c| match c {
        'Y' => Some(365 * DAY),
        'M' => Some(30 * DAY),
        'W' => Some(7 * DAY),
        'D' => Some(DAY),
        _ => None,
    })?;
    let time_ms = match time {
        Some(t) => sum_designators(t, |c| match c {
            'H' => Some(3_600 * SEC),
            'M' => Some(60 * SEC),
            'S' => Some(SEC),
            _ => None,
        })?,
        None => 0,
    };
    Some(date_ms + time_ms)
}

/// Sums `<digits><designator>` pairs (`10D2W`) with `unit` giving a designator's length; `None`
/// for an unknown designator, a designator without digits or trailing digits.
fn sum_designators(s: &str, unit: impl Fn(char) -> Option<Ms>) -> Option<Ms> {
    let mut total: Ms = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: Ms = num.parse().ok()?;
        num.clear();
        total += n * unit(c)?;
    }
    num.is_empty().then_some(total)
}

/// A deterministic GUID made from a counter (request ids).
pub(crate) fn counter_uuid(n: u64, salt: u64) -> String {
    uuid::Uuid::from_u128(((salt as u128) << 64) | n as u128).to_string()
}

/// Whether `s` is a GUID.
pub(crate) fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

#[cfg(test)]
mod tests;
