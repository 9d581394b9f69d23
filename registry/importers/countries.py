"""Country names as the lists spell them -> ISO 3166-1 alpha-2.

One table for every format: OFAC writes "Korea, North", BIS "South Korea",
the UN "Democratic People's Republic of Korea", the EU uses codes. Lookups
ignore case, a leading "the", punctuation runs and a trailing period. A name
that is not a country (a city, "Region: Kafia Kingi") resolves to None.
"""

from __future__ import annotations

import re
from functools import lru_cache

# code|name|other spellings... (a code may continue on the next line)
_TABLE = """
AD|Andorra
AE|United Arab Emirates|UAE|U.A.E|U.A.E.|United Arab Emirates (UAE)|Emirates
AF|Afghanistan
AG|Antigua and Barbuda
AI|Anguilla
AL|Albania
AM|Armenia
AO|Angola
AQ|Antarctica
AR|Argentina
AS|American Samoa
AT|Austria
AU|Australia
AW|Aruba
AX|Aland Islands|Åland Islands
AZ|Azerbaijan
BA|Bosnia and Herzegovina|Bosnia-Herzegovina|Bosnia & Herzegovina|Bosnia
BB|Barbados
BD|Bangladesh
BE|Belgium
BF|Burkina Faso
BG|Bulgaria
BH|Bahrain
BI|Burundi
BJ|Benin
BL|Saint Barthelemy|Saint Barthélemy
BM|Bermuda
BN|Brunei|Brunei Darussalam
BO|Bolivia|Bolivia (Plurinational State of)|Plurinational State of Bolivia
BQ|Bonaire, Sint Eustatius and Saba|Caribbean Netherlands
BR|Brazil
BS|Bahamas|Bahamas, The|The Bahamas
BT|Bhutan
BV|Bouvet Island
BW|Botswana
BY|Belarus|Byelorussia
BZ|Belize
CA|Canada
CC|Cocos (Keeling) Islands|Cocos Islands
CD|Democratic Republic of the Congo|Congo, Democratic Republic of the|Congo, Democratic Republic
CD|Democratic Republic of Congo|DR Congo|DRC|Congo (Kinshasa)
CD|Congo, The Democratic Republic of the
CF|Central African Republic|CAR
CG|Congo|Republic of the Congo|Congo, Republic of the|Congo (Brazzaville)|Republic of Congo
CH|Switzerland
CI|Cote d'Ivoire|Côte d'Ivoire|Ivory Coast|Cote d Ivoire|Côte d’Ivoire
CK|Cook Islands
CL|Chile
CM|Cameroon
CN|China|People's Republic of China|Peoples Republic of China|PRC|China, People's Republic of
CN|Mainland China
CO|Colombia
CR|Costa Rica
CU|Cuba
CV|Cabo Verde|Cape Verde
CW|Curacao|Curaçao
CX|Christmas Island
CY|Cyprus
CZ|Czechia|Czech Republic
DE|Germany|Federal Republic of Germany
DJ|Djibouti
DK|Denmark
DM|Dominica
DO|Dominican Republic
DZ|Algeria
EC|Ecuador
EE|Estonia
EG|Egypt
EH|Western Sahara
ER|Eritrea
ES|Spain
ET|Ethiopia
FI|Finland
FJ|Fiji
FK|Falkland Islands|Falkland Islands (Malvinas)
FM|Micronesia|Micronesia, Federated States of|Federated States of Micronesia
FO|Faroe Islands
FR|France
GA|Gabon
GB|United Kingdom|UK|U.K|U.K.|Great Britain|United Kingdom of Great Britain and Northern Ireland
GB|England|Scotland|Wales|Northern Ireland|Britain
GD|Grenada
GE|Georgia
GF|French Guiana
GG|Guernsey
GH|Ghana
GI|Gibraltar
GL|Greenland
GM|Gambia|Gambia, The|The Gambia
GN|Guinea|Republic of Guinea
GP|Guadeloupe
GQ|Equatorial Guinea
GR|Greece
GS|South Georgia and the South Sandwich Islands
GT|Guatemala
GU|Guam
GW|Guinea-Bissau|Guinea Bissau
GY|Guyana
HK|Hong Kong|Hong Kong SAR|Hong Kong, China|Hong Kong Special Administrative Region
HK|Hong Kong SAR, China|China, Hong Kong Special Administrative Region
HM|Heard Island and McDonald Islands
HN|Honduras
HR|Croatia
HT|Haiti
HU|Hungary
ID|Indonesia
IE|Ireland
IL|Israel
IM|Isle of Man|Man, Isle of
IN|India
IO|British Indian Ocean Territory
IQ|Iraq
IR|Iran|Iran (Islamic Republic of)|Islamic Republic of Iran|Iran, Islamic Republic of
IS|Iceland
IT|Italy
JE|Jersey
JM|Jamaica
JO|Jordan
JP|Japan
KE|Kenya
KG|Kyrgyzstan|Kyrgyz Republic|Kirghizia
KH|Cambodia
KI|Kiribati
KM|Comoros
KN|Saint Kitts and Nevis|St. Kitts and Nevis|St Kitts and Nevis
KP|North Korea|Korea, North|Democratic People's Republic of Korea
KP|Democratic Peoples Republic of Korea|Korea, Democratic People's Republic of|DPRK|Korea (North)
KR|South Korea|Korea, South|Republic of Korea|Korea, Republic of|Korea|Korea (South)
KW|Kuwait
KY|Cayman Islands
KZ|Kazakhstan
LA|Laos|Lao People's Democratic Republic|Lao PDR
LB|Lebanon
LC|Saint Lucia|St. Lucia
LI|Liechtenstein
LK|Sri Lanka
LR|Liberia
LS|Lesotho
LT|Lithuania
LU|Luxembourg
LV|Latvia
LY|Libya|Libyan Arab Jamahiriya
MA|Morocco
MC|Monaco
MD|Moldova|Republic of Moldova|Moldova, Republic of
ME|Montenegro
MF|Saint Martin|Saint Martin (French part)
MG|Madagascar
MH|Marshall Islands
MK|North Macedonia|North Macedonia, The Republic of|Macedonia
MK|The former Yugoslav Republic of Macedonia|Macedonia, The Former Yugoslav Republic of
MK|Republic of North Macedonia
ML|Mali|Northern Mali
MM|Burma|Myanmar|Myanmar (Burma)
MN|Mongolia
MO|Macau|Macao|Macau SAR|Macao SAR
MP|Northern Mariana Islands
MQ|Martinique
MR|Mauritania
MS|Montserrat
MT|Malta
MU|Mauritius
MV|Maldives
MW|Malawi
MX|Mexico
MY|Malaysia
MZ|Mozambique
NA|Namibia
NC|New Caledonia
NE|Niger
NF|Norfolk Island
NG|Nigeria
NI|Nicaragua
NL|Netherlands|The Netherlands|Holland|Netherlands (Kingdom of the)
NO|Norway
NP|Nepal
NR|Nauru
NU|Niue
NZ|New Zealand
OM|Oman
PA|Panama
PE|Peru
PF|French Polynesia
PG|Papua New Guinea
PH|Philippines|The Philippines
PK|Pakistan
PL|Poland
PM|Saint Pierre and Miquelon
PN|Pitcairn
PR|Puerto Rico
PS|Palestine|Palestinian|Palestinian Territories|Palestinian Territory
PS|Occupied Palestinian Territory|State of Palestine|West Bank|Gaza|Gaza Strip|West Bank and Gaza
PS|Palestine, State of|Occupied Palestinian Territories|Palestinian Authority|Northern Gaza
PS|North Gaza
PT|Portugal
PW|Palau
PY|Paraguay
QA|Qatar
RE|Reunion|Réunion
RO|Romania
RS|Serbia
RU|Russia|Russian Federation
RW|Rwanda
SA|Saudi Arabia|Kingdom of Saudi Arabia
SB|Solomon Islands
SC|Seychelles
SD|Sudan|The Sudan
SE|Sweden
SG|Singapore
SH|Saint Helena|Saint Helena, Ascension and Tristan da Cunha
SI|Slovenia
SJ|Svalbard and Jan Mayen
SK|Slovakia|Slovak Republic
SL|Sierra Leone
SM|San Marino
SN|Senegal
SO|Somalia
SR|Suriname|Surinam
SS|South Sudan|Republic of South Sudan
ST|Sao Tome and Principe|São Tomé and Príncipe
SV|El Salvador
SX|Sint Maarten|Sint Maarten (Dutch part)
SY|Syria|Syrian Arab Republic
SZ|Eswatini|Swaziland
TC|Turks and Caicos Islands
TD|Chad
TF|French Southern Territories
TG|Togo
TH|Thailand
TJ|Tajikistan
TK|Tokelau
TL|Timor-Leste|East Timor
TM|Turkmenistan
TN|Tunisia
TO|Tonga
TR|Turkey|Türkiye|Turkiye|Republic of Turkey|Republic of Türkiye
TT|Trinidad and Tobago
TV|Tuvalu
TW|Taiwan|Taiwan, Province of China|Republic of China|Chinese Taipei
TZ|Tanzania|United Republic of Tanzania|Tanzania, United Republic of
UA|Ukraine|Crimea|Crimea Region of Ukraine|Crimea (Occupied)|Crimea region of Ukraine
UA|Donetsk People's Republic|Luhansk People's Republic
UG|Uganda
UM|United States Minor Outlying Islands
US|United States|United States of America|USA|U.S.A|U.S.A.|U.S.|US|America
UY|Uruguay
UZ|Uzbekistan
VA|Holy See|Vatican|Vatican City|Holy See (Vatican City State)
VC|Saint Vincent and the Grenadines|St. Vincent and the Grenadines
VE|Venezuela|Venezuela (Bolivarian Republic of)|Bolivarian Republic of Venezuela
VG|British Virgin Islands|Virgin Islands, British|Virgin Islands (British)|BVI
VI|U.S. Virgin Islands|Virgin Islands, U.S.|United States Virgin Islands|Virgin Islands (U.S.)
VN|Vietnam|Viet Nam
VU|Vanuatu
WF|Wallis and Futuna
WS|Samoa
XK|Kosovo
YE|Yemen
YT|Mayotte
ZA|South Africa
ZM|Zambia
ZW|Zimbabwe
"""

_CLEAN = re.compile(r"[\s.,'’`\-()]+")


def _key(name: str) -> str:
    text = name.strip().casefold().replace("&", " and ")
    if text.startswith("the "):
        text = text[4:]
    return _CLEAN.sub(" ", text).strip()


CODES: frozenset[str] = frozenset(line.split("|", 1)[0] for line in _TABLE.split("\n") if line)
NAMES: dict[str, str] = {}  # code -> English short name
_BY_KEY: dict[str, str] = {}
for _line in _TABLE.split("\n"):
    if not _line:
        continue
    _code, *_names = _line.split("|")
    NAMES.setdefault(_code, _names[0])
    for _name in _names:
        _BY_KEY.setdefault(_key(_name), _code)


@lru_cache(maxsize=4096)
def country_code(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a country name or code as a list writes it, else None.

    Two-letter upper-case input is taken as a code when it is one ("CN", "GB");
    "00" and other placeholders give None. OFAC's "Region: Crimea" resolves via
    the region name.
    """
    if not value:
        return None
    text = value.strip()
    if len(text) == 2 and text.isupper():
        return text if text in CODES else None
    if text.startswith("Region:"):
        text = text[len("Region:") :]
    return _BY_KEY.get(_key(text))
