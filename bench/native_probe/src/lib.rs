// Parse + JSON Schema check of one record from its bytes, in Rust, and the top-level
// fields the rules read handed back as a dict: the steps dce does with orjson and
// jsonschema-rs, for timing them side by side (probe.py).
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() { i.into_pyobject(py)?.into_any() }
            else if let Some(u) = n.as_u64() { u.into_pyobject(py)?.into_any() }
            else { n.as_f64().unwrap().into_pyobject(py)?.into_any() }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a { l.append(to_py(py, x)?)?; }
            l.into_any()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o { d.set_item(k, to_py(py, x)?)?; }
            d.into_any()
        }
    })
}

#[pyclass(frozen)]
struct Doc { v: Value }

#[pyfunction]
fn parse(raw: &[u8]) -> Option<Doc> {
    serde_json::from_slice::<Value>(raw).ok().map(|v| Doc { v })
}

#[pyclass(frozen)]
struct Checker { validator: jsonschema::Validator, fields: Vec<String> }

#[pymethods]
impl Checker {
    #[new]
    fn new(schema: &str, fields: Vec<String>) -> PyResult<Self> {
        let s: Value = serde_json::from_str(schema).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        let validator = jsonschema::options().should_validate_formats(true).build(&s).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        Ok(Checker { validator, fields })
    }
    fn valid(&self, doc: &Doc) -> bool { self.validator.is_valid(&doc.v) }
    fn fields<'py>(&self, py: Python<'py>, doc: &Doc) -> PyResult<Option<Bound<'py, PyDict>>> {
        if !self.validator.is_valid(&doc.v) { return Ok(None); }
        let d = PyDict::new(py);
        if let Value::Object(o) = &doc.v {
            for f in &self.fields { if let Some(x) = o.get(f) { d.set_item(f, to_py(py, x)?)?; } }
        }
        Ok(Some(d))
    }
    fn check_bytes<'py>(&self, py: Python<'py>, raw: &[u8]) -> PyResult<Option<Bound<'py, PyDict>>> {
        let v: Value = match serde_json::from_slice(raw) { Ok(v) => v, Err(_) => return Ok(None) };
        if !self.validator.is_valid(&v) { return Ok(None); }
        let d = PyDict::new(py);
        if let Value::Object(o) = &v {
            for f in &self.fields { if let Some(x) = o.get(f) { d.set_item(f, to_py(py, x)?)?; } }
        }
        Ok(Some(d))
    }
}

#[pymodule]
fn dce_native_probe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_class::<Checker>()?;
    m.add_class::<Doc>()?;
    Ok(())
}
