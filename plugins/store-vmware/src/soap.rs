//! The few vSphere SOAP messages the driver sends, and a small reader for the answers.
//!
//! Requests are string templates whose every value goes through [`escape`]; answers are read into
//! a small element tree ([`Element`]), since they are a few kilobytes at most.

use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// A managed object reference: `<x type="Datastore">datastore-12</x>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moref {
    pub kind: String,
    pub value: String,
}

impl Moref {
    pub fn new(kind: &str, value: &str) -> Self {
        Moref {
            kind: kind.to_owned(),
            value: value.to_owned(),
        }
    }

    /// The reference as the element `tag`.
    fn xml(&self, tag: &str) -> String {
        format!(
            r#"<{tag} type="{}">{}</{tag}>"#,
            escape(&self.kind),
            escape(&self.value)
        )
    }

    /// Reads a reference from an element with a `type` attribute.
    pub fn of(element: &Element) -> Option<Moref> {
        Some(Moref {
            kind: element.type_attr.clone()?,
            value: element.text.clone(),
        })
    }
}

/// Escapes a value for XML text or a double-quoted attribute.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A SOAP envelope around one vim25 method call.
fn envelope(method: &str, this: &Moref, arguments: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
            r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            r#"<soapenv:Body><{method} xmlns="urn:vim25">{this}{arguments}</{method}>"#,
            r#"</soapenv:Body></soapenv:Envelope>"#
        ),
        method = method,
        this = this.xml("_this"),
        arguments = arguments
    )
}

pub fn retrieve_service_content() -> String {
    envelope(
        "RetrieveServiceContent",
        &Moref::new("ServiceInstance", "ServiceInstance"),
        "",
    )
}

pub fn login(session_manager: &Moref, username: &str, password: &str) -> String {
    envelope(
        "Login",
        session_manager,
        &format!(
            "<userName>{}</userName><password>{}</password>",
            escape(username),
            escape(password)
        ),
    )
}

pub fn find_by_inventory_path(search_index: &Moref, path: &str) -> String {
    envelope(
        "FindByInventoryPath",
        search_index,
        &format!("<inventoryPath>{}</inventoryPath>", escape(path)),
    )
}

/// `RetrieveProperties` of `paths` on `objects`, all of type `kind`.
pub fn retrieve_properties(
    property_collector: &Moref,
    kind: &str,
    paths: &[&str],
    objects: &[Moref],
) -> String {
    let mut spec = format!("<specSet><propSet><type>{}</type>", escape(kind));
    for path in paths {
        // Ignored result: writing to a String cannot fail.
        let _ = write!(spec, "<pathSet>{}</pathSet>", escape(path));
    }
    spec.push_str("</propSet>");
    for object in objects {
        let _ = write!(spec, "<objectSet>{}</objectSet>", object.xml("obj"));
    }
    spec.push_str("</specSet>");
    envelope("RetrieveProperties", property_collector, &spec)
}

/// Creates a datastore directory and its missing parents.
pub fn make_directory(file_manager: &Moref, name: &str, datacenter: &Moref) -> String {
    envelope(
        "MakeDirectory",
        file_manager,
        &format!(
            "<name>{}</name>{}<createParentDirectories>true</createParentDirectories>",
            escape(name),
            datacenter.xml("datacenter")
        ),
    )
}

pub fn delete_datastore_file(file_manager: &Moref, name: &str, datacenter: &Moref) -> String {
    envelope(
        "DeleteDatastoreFile_Task",
        file_manager,
        &format!(
            "<name>{}</name>{}",
            escape(name),
            datacenter.xml("datacenter")
        ),
    )
}

/// Moves a file within one datacenter; `force = false` refuses to replace an existing file.
pub fn move_datastore_file(
    file_manager: &Moref,
    source: &str,
    destination: &str,
    datacenter: &Moref,
) -> String {
    envelope(
        "MoveDatastoreFile_Task",
        file_manager,
        &format!(
            "<sourceName>{}</sourceName>{}<destinationName>{}</destinationName>{}<force>false</force>",
            escape(source),
            datacenter.xml("sourceDatacenter"),
            escape(destination),
            datacenter.xml("destinationDatacenter"),
        ),
    )
}

/// An XML element: local name, the two attributes vSphere answers use, text and children.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    /// The unprefixed `type` attribute of a managed object reference.
    pub type_attr: Option<String>,
    /// The `xsi:type` attribute (whatever the prefix) of a polymorphic value.
    pub xsi_type: Option<String>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// The text of the child `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|child| child.text.as_str())
    }
}

/// A SOAP fault: the vSphere fault type (`InvalidLogin`, `FileNotFound`, …) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: String,
    pub message: String,
}

/// Reads an answer: the method's response element, or the fault it carries.
pub fn parse_reply(xml: &str) -> Result<Result<Element, Fault>, String> {
    let root = parse(xml)?;
    let body = root
        .child("Body")
        .ok_or_else(|| format!("no SOAP Body in the answer: {}", excerpt(xml)))?;
    let first = body
        .children
        .first()
        .ok_or_else(|| "an empty SOAP Body".to_owned())?;
    if first.name != "Fault" {
        return Ok(Ok(first.clone()));
    }
    let detail = first
        .child("detail")
        .and_then(|detail| detail.children.first());
    let kind = detail
        .map(|detail| {
            detail.xsi_type.clone().unwrap_or_else(|| {
                detail
                    .name
                    .strip_suffix("Fault")
                    .unwrap_or(&detail.name)
                    .to_owned()
            })
        })
        .unwrap_or_else(|| "SoapFault".to_owned());
    Ok(Err(Fault {
        kind: strip_prefix(&kind).to_owned(),
        message: first
            .child_text("faultstring")
            .unwrap_or_default()
            .to_owned(),
    }))
}

/// A `LocalizedMethodFault` value (a task's `info.error`) as a fault.
pub fn localized_fault(value: &Element) -> Fault {
    let kind = value
        .child("fault")
        .and_then(|fault| fault.xsi_type.clone())
        .unwrap_or_else(|| "UnknownFault".to_owned());
    Fault {
        kind: strip_prefix(&kind).to_owned(),
        message: value
            .child_text("localizedMessage")
            .unwrap_or_default()
            .to_owned(),
    }
}

/// One object of a `RetrieveProperties` answer.
#[derive(Debug, Default)]
pub struct ObjectContent {
    pub obj: Option<Moref>,
    /// Property path → its `val` element.
    pub props: Vec<(String, Element)>,
    /// Property paths the server could not read, with the fault type.
    pub missing: Vec<(String, String)>,
}

impl ObjectContent {
    pub fn prop(&self, path: &str) -> Option<&Element> {
        self.props
            .iter()
            .find(|(name, _)| name == path)
            .map(|(_, value)| value)
    }
}

/// The objects of a `RetrievePropertiesResponse`.
pub fn object_contents(response: &Element) -> Vec<ObjectContent> {
    response
        .children_named("returnval")
        .map(|content| ObjectContent {
            obj: content.child("obj").and_then(Moref::of),
            props: content
                .children_named("propSet")
                .filter_map(|prop| {
                    Some((
                        prop.child_text("name")?.to_owned(),
                        prop.child("val")?.clone(),
                    ))
                })
                .collect(),
            missing: content
                .children_named("missingSet")
                .map(|missing| {
                    let fault = missing
                        .child("fault")
                        .map(localized_fault)
                        .map(|fault| fault.kind)
                        .unwrap_or_default();
                    (
                        missing.child_text("path").unwrap_or_default().to_owned(),
                        fault,
                    )
                })
                .collect(),
        })
        .collect()
}

/// `xsd:long` → `long`.
fn strip_prefix(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn excerpt(xml: &str) -> String {
    xml.chars().take(200).collect()
}

/// Parses a whole document into its root element.
pub fn parse(xml: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let bad =
        |err: &dyn std::fmt::Display| format!("malformed XML answer ({err}): {}", excerpt(xml));
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        match reader.read_event().map_err(|err| bad(&err))? {
            Event::Start(start) => stack.push(element(&start).map_err(|err| bad(&err))?),
            Event::Empty(start) => {
                let done = element(&start).map_err(|err| bad(&err))?;
                stack
                    .last_mut()
                    .expect("the document node")
                    .children
                    .push(done);
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(bad(&"unbalanced end tag"));
                }
                let done = stack.pop().expect("checked above");
                stack.last_mut().expect("checked above").children.push(done);
            }
            Event::Text(text) => {
                let text = text.unescape().map_err(|err| bad(&err))?;
                stack
                    .last_mut()
                    .expect("the document node")
                    .text
                    .push_str(&text);
            }
            Event::CData(data) => {
                let data = String::from_utf8_lossy(&data).into_owned();
                stack
                    .last_mut()
                    .expect("the document node")
                    .text
                    .push_str(&data);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(bad(&"unclosed element"));
    }
    stack
        .pop()
        .and_then(|document| document.children.into_iter().next())
        .ok_or_else(|| bad(&"no root element"))
}

fn element(start: &BytesStart<'_>) -> Result<Element, quick_xml::Error> {
    let mut element = Element {
        name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
        ..Element::default()
    };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(quick_xml::Error::InvalidAttr)?;
        if attribute.key.local_name().as_ref() != b"type" {
            continue;
        }
        let value = attribute.unescape_value()?.into_owned();
        match attribute.key.prefix() {
            None => element.type_attr = Some(value),
            Some(_) => element.xsi_type = Some(value),
        }
    }
    Ok(element)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
        r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#
    );

    fn answer(body: &str) -> String {
        format!("{ENVELOPE}{body}</soapenv:Body></soapenv:Envelope>")
    }

    #[test]
    fn values_are_escaped_in_requests() {
        let sm = Moref::new("SessionManager", "SessionManager");
        let xml = login(&sm, "dom\\<admin>", "p&'\"w");
        assert!(
            xml.contains("<userName>dom\\&lt;admin&gt;</userName>"),
            "{xml}"
        );
        assert!(
            xml.contains("<password>p&amp;&apos;&quot;w</password>"),
            "{xml}"
        );
        // The request is well-formed and carries the values back unchanged.
        let parsed = parse(&xml).unwrap();
        let call = &parsed.child("Body").unwrap().children[0];
        assert_eq!(call.child_text("password"), Some("p&'\"w"));
        assert_eq!(call.child("_this").and_then(Moref::of), Some(sm));
    }

    #[test]
    fn faults_carry_their_type() {
        let xml = answer(concat!(
            "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Login failure",
            r#"</faultstring><detail><InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin">"#,
            "</InvalidLoginFault></detail></soapenv:Fault>"
        ));
        let fault = parse_reply(&xml).unwrap().unwrap_err();
        assert_eq!(
            fault,
            Fault {
                kind: "InvalidLogin".into(),
                message: "Login failure".into()
            }
        );
        // Without xsi:type, the detail element's name tells the type.
        let xml = answer(
            "<soapenv:Fault><faultstring>x</faultstring><detail><NotAuthenticatedFault/></detail></soapenv:Fault>",
        );
        assert_eq!(
            parse_reply(&xml).unwrap().unwrap_err().kind,
            "NotAuthenticated"
        );
        assert!(parse_reply("<html>busy</html>").is_err());
        assert!(parse_reply("not xml <<").is_err());
    }

    #[test]
    fn property_answers_as_vcsim_and_vcenter_write_them() {
        let xml = answer(concat!(
            r#"<RetrievePropertiesResponse xmlns="urn:vim25"><returnval><obj type="Task">task-69</obj>"#,
            r#"<propSet><name>info.state</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" "#,
            r#"XMLSchema-instance:type="TaskInfoState">error</val></propSet><propSet><name>info.error</name>"#,
            r#"<val xsi:type="LocalizedMethodFault"><fault xsi:type="FileNotFound"><file>/x</file></fault>"#,
            "<localizedMessage>File /x was not found</localizedMessage></val></propSet></returnval>",
            r#"<returnval><obj type="Datastore">ds&amp;1</obj><missingSet><path>name</path><fault>"#,
            r#"<fault xsi:type="NotAuthenticated"/></fault></missingSet></returnval>"#,
            "</RetrievePropertiesResponse>"
        ));
        let response = parse_reply(&xml).unwrap().unwrap();
        let contents = object_contents(&response);
        assert_eq!(contents.len(), 2);
        assert_eq!(contents[0].obj, Some(Moref::new("Task", "task-69")));
        assert_eq!(contents[0].prop("info.state").unwrap().text, "error");
        let fault = localized_fault(contents[0].prop("info.error").unwrap());
        assert_eq!(fault.kind, "FileNotFound");
        assert_eq!(fault.message, "File /x was not found");
        assert_eq!(contents[1].obj, Some(Moref::new("Datastore", "ds&1")));
        assert_eq!(
            contents[1].missing,
            [("name".to_owned(), "NotAuthenticated".to_owned())]
        );
    }
}
