"""The shared identifier vocabulary and the OFAC remarks parser.

Every list names its identifier types its own way ("Tax ID No.", "fiscalcode",
"INN"). Records are joined on (scheme, value), so each type is mapped to one
small vocabulary:

    us-ofac-uid, uk-sanctions-list-ref, ofsi-group-id, eu-fsf-id, un-ref, imo,
    imo-company, mmsi, registration-number, tax-id, cn-uscc, passport, national-id,
    swift-bic, lei, duns, isin, ru-okpo, ru-bik, birth-certificate, drivers-licence,
    residence-permit, aircraft-msn, aircraft-tail-number, crypto-wallet, other

Types that are not identifiers (gender, websites, dates, "Secondary sanctions
risk", ...) are not mapped: the parsers leave them in the evidence row only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base import Doc, birth_date
from .countries import country_code

# OFAC's identifier labels (SDN.CSV remarks, the CSL `ids` column, OFAC-derived
# aggregates) -> scheme. Several labels mean the same thing in different countries.
OFAC_ID_LABELS: dict[str, str] = {
    "Passport": "passport",
    "Diplomatic Passport": "passport",
    "Service Passport": "passport",
    "National ID No.": "national-id",
    "National Identification Number": "national-id",
    "Personal ID Card": "national-id",
    "Cedula No.": "national-id",
    "C.U.R.P.": "national-id",
    "CURP #": "national-id",
    "D.N.I.": "national-id",
    "DNI": "national-id",
    "Kenyan ID No.": "national-id",
    "Turkish Identification Number": "national-id",
    "UAE Identification": "national-id",
    "Identification Number": "national-id",
    "Credencial electoral": "national-id",
    "Electoral Registry No.": "national-id",
    "SSN": "national-id",
    "Social Security Number": "national-id",
    "Tax ID No.": "tax-id",
    "NIT #": "tax-id",
    "R.F.C.": "tax-id",
    "RFC": "tax-id",
    "RUC #": "tax-id",
    "RIF #": "tax-id",
    "RTN": "tax-id",
    "CUIT": "tax-id",
    "V.A.T. Number": "tax-id",
    "VAT Number": "tax-id",
    "Italian Fiscal Code": "tax-id",
    "Registration Number": "registration-number",
    "Registration ID": "registration-number",
    "Business Registration Number": "registration-number",
    "Business Registration Document #": "registration-number",
    "Commercial Registry Number": "registration-number",
    "Company Number": "registration-number",
    "Public Registration Number": "registration-number",
    "Chamber of Commerce Number": "registration-number",
    "Istanbul Chamber of Comm. No.": "registration-number",
    "Folio Mercantil No.": "registration-number",
    "Matricula Mercantil No": "registration-number",
    "C.R. No.": "registration-number",
    "Trade License No.": "registration-number",
    "License": "registration-number",
    "Economic Register Number (CBLS)": "registration-number",
    "Central Registration System Number": "registration-number",
    "Certificate of Incorporation Number": "registration-number",
    "Unified Social Credit Code (USCC)": "cn-uscc",
    "Government Gazette Number": "ru-okpo",
    "BIK (RU)": "ru-bik",
    "SWIFT/BIC": "swift-bic",
    "Legal Entity Number": "lei",
    "D-U-N-S Number": "duns",
    "ISIN": "isin",
    "Vessel Registration Identification": "imo",
    "MMSI": "mmsi",
    "Birth Certificate Number": "birth-certificate",
    "Driver's License No.": "drivers-licence",
    "Residency Number": "residence-permit",
    "Aircraft Manufacturer's Serial Number (MSN)": "aircraft-msn",
    "Aircraft Tail Number": "aircraft-tail-number",
    # (found unparsed in the 2024 SDN remarks)
    "Aircraft Construction Number (also called L/N or S/N or F/N)": "aircraft-msn",
    "Business Number": "registration-number",
    "Enterprise Number": "registration-number",
    "Branch Unit Number": "registration-number",
    "UK Company Number": "registration-number",
    "Registered Charity No.": "registration-number",
    "Dubai Chamber of Commerce Membership No.": "registration-number",
    "United Social Credit Code Certificate (USCCC)": "cn-uscc",
    "National Foreign ID Number": "national-id",
    "Numero de Identidad": "national-id",
    "Citizen's Card Number": "national-id",
    "C.U.I.": "national-id",
    "I.F.E.": "national-id",
    "LE Number": "national-id",
    "Cartilla de Servicio Militar Nacional": "national-id",
    "Refugee ID Card": "national-id",
    "Travel Document Number": "passport",
    "C.U.I.T.": "tax-id",
    "US FEIN": "tax-id",
}
# Labels ending in a free part ("Digital Currency Address - XBT").
OFAC_ID_PREFIXES: dict[str, str] = {"Digital Currency Address - ": "crypto-wallet"}

# EU financial sanctions file identifier codes (and the UN's document labels as
# aggregates carry them) -> scheme.
EU_ID_TYPES: dict[str, str] = {
    "passport": "passport",
    "id": "national-id",
    "nationcert": "national-id",
    "ssn": "national-id",
    "unssn": "national-id",
    "electionid": "national-id",
    "travelcardid": "national-id",
    "regnumber": "registration-number",
    "tradelic": "registration-number",
    "fiscalcode": "tax-id",
    "taxid": "tax-id",
    "euvat": "tax-id",
    "imo": "imo",
    "swiftbic": "swift-bic",
    "birthcert": "birth-certificate",
    "drivinglicence": "drivers-licence",
    "residentperm": "residence-permit",
    "other": "other",
    "Numéro de passeport": "passport",
    "Número de pasaporte": "passport",
}

# A Chinese Unified Social Credit Code: 18 characters, no I, O, S, V, Z.
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{9}[0-9A-HJ-NPQRTUWXY]$")
_IMO = re.compile(r"^IMO\s*(\d{7})$", re.IGNORECASE)


def identifier(
    scheme: str,
    value: str,
    country: str | None = None,
    note: str | None = None,
    source: str | None = None,
) -> Doc | None:
    """An identifier document in the shared vocabulary: an 18-character Chinese tax or
    registration number becomes cn-uscc, "IMO 1234567" keeps the digits."""
    value = " ".join(value.split()).strip(" .;,")
    if not value:
        return None
    imo = _IMO.match(value)
    if imo and scheme in ("imo", "registration-number", "national-id", "other"):
        scheme, value = ("imo-company" if scheme == "registration-number" else "imo"), imo[1]
    elif scheme == "imo":
        digits = re.sub(r"\D", "", value)
        if len(digits) == 7:
            value = digits
    if scheme in ("tax-id", "registration-number", "other") and country in (None, "CN"):
        compact = value.replace(" ", "").upper()
        if _USCC.match(compact) and (country == "CN" or compact[:2] in ("91", "92", "93", "12")):
            scheme, value, country = "cn-uscc", compact, "CN"
    doc: Doc = {"scheme": scheme, "value": value}
    if country:
        doc["country"] = country
    if note:
        doc["note"] = note
    if source:
        doc["source"] = source
    return doc


def ofac_scheme(label: str) -> str | None:
    """The scheme for an OFAC identifier label, None when it is not an identifier."""
    label = " ".join(label.split())
    scheme = OFAC_ID_LABELS.get(label)
    if scheme:
        return scheme
    for prefix, prefix_scheme in OFAC_ID_PREFIXES.items():
        if label.startswith(prefix):
            return prefix_scheme
    return None


# --- OFAC remarks ----------------------------------------------------------------------------


@dataclass
class Remarks:
    """What the remarks of an SDN.CSV row say, in structured form."""

    aliases: list[tuple[str, str]]  # (kind, name)
    identifiers: list[Doc]
    nationalities: list[str]  # ISO codes from "nationality X" / "citizen X"
    linked_to: list[str]
    birth_dates: list[str]  # from "DOB 10 Dec 1948", "DOB circa 1951", "DOB 1951 to 1953"


_SPLIT = re.compile(r";\s+")
_ALIAS = re.compile(r"^(a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s*,?\s*['‘’\"](.+)['‘’\"]\s*\.?$", re.DOTALL)
_ALIAS_KIND = {"a.k.a.": "weak_aka", "f.k.a.": "fka", "n.k.a.": "weak_aka"}
_NATIONALITY = re.compile(r"^(?:nationality|citizen)\s+(.+?)\.?$")
_LINKED = re.compile(r"^Linked To:\s*(.+?)\.?$")
_LABELS = sorted(OFAC_ID_LABELS, key=len, reverse=True)
_ID_ITEM = re.compile(
    r"^(?P<label>" + "|".join(re.escape(label) for label in _LABELS) + r")\s+(?P<rest>.+)$"
)
_CRYPTO = re.compile(r"^Digital Currency Address - (?P<currency>\S+)\s+(?P<value>\S+?)\.?$")
# value, then an optional "(Country)", then optional issue/expiry dates
_ID_REST = re.compile(
    r"^(?P<value>.+?)(?:\s+\((?P<country>[^()]+)\))?"
    r"(?P<dates>\s+(?:issued|expires)\b.*?)?\.?$"
)


def parse_remarks(text: str | None, *, source: str | None = None) -> Remarks:
    """Aliases, identifiers, nationalities and links from an OFAC remarks field.

    In the legacy SDN.CSV, OFAC keeps *weak* a.k.a.s in the remarks (the strong
    ones are in ALT.CSV), so remarks a.k.a.s are weak_aka; f.k.a.s stay fka.
    Items are "; "-separated; "alt. " before an item marks another value of the
    same kind. Other items (POB, gender, websites, sanctions notes) are left
    alone: they stay in the record's notes and row.
    """
    result = Remarks([], [], [], [], [])
    if not text:
        return result
    for raw in _SPLIT.split(text.strip()):
        item = raw.strip()
        if item.startswith("alt. "):
            item = item[5:].lstrip()
        if not item:
            continue
        if item[1:2] == "." and item[0] in "afn":
            match = _ALIAS.match(item)
            if match:
                result.aliases.append((_ALIAS_KIND[match[1]], match[2].strip()))
            continue
        if item.startswith("DOB "):
            date = birth_date(item[4:])
            if date and date not in result.birth_dates:
                result.birth_dates.append(date)
            continue
        if item.startswith(("nationality ", "citizen ")):
            match = _NATIONALITY.match(item)
            code = country_code(match[1]) if match else None
            if code and code not in result.nationalities:
                result.nationalities.append(code)
            continue
        if item.startswith("Linked To:"):
            match = _LINKED.match(item)
            if match:
                result.linked_to.append(match[1])
            continue
        if item.startswith("Digital Currency Address - "):
            match = _CRYPTO.match(item)
            doc = (
                identifier(
                    "crypto-wallet",
                    match["value"],
                    None,
                    f"OFAC: Digital Currency Address - {match['currency']}",
                    source,
                )
                if match
                else None
            )
            if doc:
                result.identifiers.append(doc)
            continue
        match = _ID_ITEM.match(item)
        rest = _ID_REST.match(match["rest"].strip()) if match else None
        if not match or not rest:
            continue
        label = match["label"]
        value = rest["value"]
        country = None
        if rest["country"]:
            country = country_code(rest["country"])
            if country is None:  # "(Jalisco)": part of the value, not a country
                value = f"{value} ({rest['country']})"
        note = f"OFAC: {label}"
        if rest["dates"]:
            note += f"; {rest['dates'].strip()}"
        doc = identifier(OFAC_ID_LABELS[label], value, country, note, source)
        if doc:
            result.identifiers.append(doc)
    return result
