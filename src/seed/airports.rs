//! The airports of the flight catalog: real IATA codes, cities, names and
//! positions (for great-circle distances, hence durations and prices), plus
//! what travellers go there for, which shapes the booking notes.

/// What a destination is known for.
pub const SKI: u8 = 1;
pub const BEACH: u8 = 2;
pub const BUSINESS: u8 = 4;
pub const CULTURE: u8 = 8;
pub const NATURE: u8 = 16;

pub struct Airport {
    pub code: &'static str,
    pub city: &'static str,
    pub country: &'static str,
    pub name: &'static str,
    pub locale: &'static str,
    pub lat: f64,
    pub lon: f64,
    /// 3 hub, 2 major, 1 regional: hubs fly everywhere, regional airports
    /// mostly short routes.
    pub size: u8,
    pub tags: u8,
    /// Local things travellers mention in their booking notes.
    pub highlights: &'static [&'static str],
}

macro_rules! airports {
    ($(($code:literal, $city:literal, $country:literal, $name:literal, $locale:literal,
        $lat:literal, $lon:literal, $size:literal, $tags:expr, [$($h:literal),*])),* $(,)?) => {
        &[$(Airport {
            code: $code, city: $city, country: $country, name: $name, locale: $locale,
            lat: $lat, lon: $lon, size: $size, tags: $tags, highlights: &[$($h),*],
        }),*]
    };
}

pub const AIRPORTS: &[Airport] = airports![
    (
        "LHR",
        "London",
        "United Kingdom",
        "London Heathrow",
        "en_GB",
        51.47,
        -0.45,
        3,
        BUSINESS | CULTURE,
        [
            "a West End musical",
            "afternoon tea at the Ritz",
            "the Christmas lights on Regent Street"
        ]
    ),
    (
        "LGW",
        "London",
        "United Kingdom",
        "London Gatwick",
        "en_GB",
        51.15,
        -0.19,
        2,
        BUSINESS | CULTURE,
        ["the Borough Market food stalls", "a Premier League match"]
    ),
    (
        "EDI",
        "Edinburgh",
        "United Kingdom",
        "Edinburgh",
        "en_GB",
        55.95,
        -3.36,
        1,
        CULTURE | NATURE,
        [
            "Hogmanay on Princes Street",
            "a whisky tasting on the Royal Mile"
        ]
    ),
    (
        "DUB",
        "Dublin",
        "Ireland",
        "Dublin",
        "en_IE",
        53.42,
        -6.27,
        2,
        BUSINESS | CULTURE,
        ["live music in Temple Bar", "a day on the Wicklow coast"]
    ),
    (
        "CDG",
        "Paris",
        "France",
        "Paris Charles de Gaulle",
        "fr_FR",
        49.01,
        2.55,
        3,
        BUSINESS | CULTURE,
        [
            "croissants for breakfast in Le Marais",
            "the Louvre late opening",
            "a Seine dinner cruise"
        ]
    ),
    (
        "NCE",
        "Nice",
        "France",
        "Nice Côte d'Azur",
        "fr_FR",
        43.66,
        7.21,
        1,
        BEACH | CULTURE,
        [
            "a walk on the Promenade des Anglais",
            "a day trip to Monaco"
        ]
    ),
    (
        "FRA",
        "Frankfurt",
        "Germany",
        "Frankfurt am Main",
        "de_DE",
        50.03,
        8.56,
        3,
        BUSINESS,
        [
            "the Römerberg Christmas market",
            "apple wine in Sachsenhausen"
        ]
    ),
    (
        "MUC",
        "Munich",
        "Germany",
        "Munich Franz Josef Strauss",
        "de_DE",
        48.35,
        11.79,
        3,
        BUSINESS | SKI | CULTURE,
        ["a beer hall evening", "a day in Garmisch on the slopes"]
    ),
    (
        "BER",
        "Berlin",
        "Germany",
        "Berlin Brandenburg",
        "de_DE",
        52.37,
        13.50,
        2,
        BUSINESS | CULTURE,
        ["the techno clubs of Friedrichshain", "the Museum Island"]
    ),
    (
        "AMS",
        "Amsterdam",
        "Netherlands",
        "Amsterdam Schiphol",
        "nl_NL",
        52.31,
        4.76,
        3,
        BUSINESS | CULTURE,
        [
            "a canal boat tour",
            "the Rijksmuseum",
            "cycling along the canals"
        ]
    ),
    (
        "CPH",
        "Copenhagen",
        "Denmark",
        "Copenhagen Kastrup",
        "da_DK",
        55.62,
        12.66,
        2,
        BUSINESS | CULTURE,
        ["Tivoli Gardens at Christmas", "a New Nordic tasting menu"]
    ),
    (
        "ARN",
        "Stockholm",
        "Sweden",
        "Stockholm Arlanda",
        "sv_SE",
        59.65,
        17.92,
        2,
        BUSINESS | CULTURE,
        ["the Vasa Museum", "fika in Gamla Stan"]
    ),
    (
        "OSL",
        "Oslo",
        "Norway",
        "Oslo Gardermoen",
        "nb_NO",
        60.19,
        11.10,
        2,
        BUSINESS | NATURE | SKI,
        ["cross-country skiing at Holmenkollen", "a fjord cruise"]
    ),
    (
        "HEL",
        "Helsinki",
        "Finland",
        "Helsinki-Vantaa",
        "fi_FI",
        60.32,
        24.96,
        2,
        BUSINESS | NATURE,
        [
            "a sauna by the sea",
            "a night train to Lapland for the northern lights"
        ]
    ),
    (
        "KEF",
        "Reykjavik",
        "Iceland",
        "Reykjavik Keflavik",
        "is_IS",
        63.99,
        -22.61,
        1,
        NATURE,
        [
            "northern lights hunting",
            "the Blue Lagoon",
            "a glacier hike"
        ]
    ),
    (
        "MAD",
        "Madrid",
        "Spain",
        "Madrid Barajas",
        "es_ES",
        40.47,
        -3.57,
        3,
        BUSINESS | CULTURE,
        ["the Prado", "churros with chocolate at San Ginés"]
    ),
    (
        "BCN",
        "Barcelona",
        "Spain",
        "Barcelona El Prat",
        "es_ES",
        41.30,
        2.08,
        2,
        BEACH | CULTURE,
        [
            "a tapas crawl in the Gothic Quarter",
            "the Sagrada Família",
            "a football match at the Camp Nou"
        ]
    ),
    (
        "PMI",
        "Palma",
        "Spain",
        "Palma de Mallorca",
        "es_ES",
        39.55,
        2.74,
        1,
        BEACH | NATURE,
        [
            "cycling in the Tramuntana mountains",
            "a quiet winter week by the sea"
        ]
    ),
    (
        "TFS",
        "Tenerife",
        "Spain",
        "Tenerife South",
        "es_ES",
        28.04,
        -16.57,
        1,
        BEACH | NATURE,
        [
            "a sunrise hike up Mount Teide",
            "whale watching off Los Cristianos"
        ]
    ),
    (
        "LIS",
        "Lisbon",
        "Portugal",
        "Lisbon Humberto Delgado",
        "pt_PT",
        38.77,
        -9.13,
        2,
        CULTURE | BEACH,
        [
            "pastéis de nata in Belém",
            "a fado evening in Alfama",
            "surfing in Ericeira"
        ]
    ),
    (
        "FCO",
        "Rome",
        "Italy",
        "Rome Fiumicino",
        "it_IT",
        41.80,
        12.25,
        3,
        CULTURE,
        [
            "the Vatican Museums",
            "a cooking class in Trastevere",
            "an espresso breakfast by the Pantheon"
        ]
    ),
    (
        "MXP",
        "Milan",
        "Italy",
        "Milan Malpensa",
        "it_IT",
        45.63,
        8.72,
        2,
        BUSINESS | CULTURE | SKI,
        ["an opera night at La Scala", "a ski weekend in Cervinia"]
    ),
    (
        "VCE",
        "Venice",
        "Italy",
        "Venice Marco Polo",
        "it_IT",
        45.51,
        12.35,
        1,
        CULTURE | SKI,
        ["a gondola ride", "skiing in the Dolomites at Cortina"]
    ),
    (
        "ZRH",
        "Zurich",
        "Switzerland",
        "Zurich",
        "de_CH",
        47.46,
        8.55,
        3,
        BUSINESS | SKI,
        ["a train up to St. Moritz", "fondue in the old town"]
    ),
    (
        "GVA",
        "Geneva",
        "Switzerland",
        "Geneva",
        "fr_CH",
        46.24,
        6.11,
        2,
        BUSINESS | SKI,
        ["skiing in Chamonix", "a transfer to Verbier"]
    ),
    (
        "INN",
        "Innsbruck",
        "Austria",
        "Innsbruck Kranebitten",
        "de_AT",
        47.26,
        11.34,
        1,
        SKI,
        ["fresh powder at St. Anton", "the Nordkette cable car"]
    ),
    (
        "SZG",
        "Salzburg",
        "Austria",
        "Salzburg W. A. Mozart",
        "de_AT",
        47.79,
        13.00,
        1,
        SKI | CULTURE,
        ["a Mozart concert", "a ski week in Zell am See"]
    ),
    (
        "VIE",
        "Vienna",
        "Austria",
        "Vienna Schwechat",
        "de_AT",
        48.11,
        16.57,
        2,
        BUSINESS | CULTURE,
        ["a New Year's concert", "Sachertorte at a coffee house"]
    ),
    (
        "PRG",
        "Prague",
        "Czechia",
        "Prague Václav Havel",
        "cs_CZ",
        50.10,
        14.26,
        2,
        CULTURE,
        [
            "the Christmas market on Old Town Square",
            "a walk across the Charles Bridge"
        ]
    ),
    (
        "BUD",
        "Budapest",
        "Hungary",
        "Budapest Ferenc Liszt",
        "hu_HU",
        47.44,
        19.26,
        2,
        CULTURE,
        [
            "the Széchenyi thermal baths",
            "ruin bars in the Jewish Quarter"
        ]
    ),
    (
        "WAW",
        "Warsaw",
        "Poland",
        "Warsaw Chopin",
        "pl_PL",
        52.17,
        20.97,
        2,
        BUSINESS | CULTURE,
        ["a Chopin recital", "pierogi in the old town"]
    ),
    (
        "ATH",
        "Athens",
        "Greece",
        "Athens Eleftherios Venizelos",
        "el_GR",
        37.94,
        23.94,
        2,
        CULTURE | BEACH,
        ["the Acropolis at sunrise", "a ferry to the islands"]
    ),
    (
        "IST",
        "Istanbul",
        "Türkiye",
        "Istanbul",
        "tr_TR",
        41.26,
        28.74,
        3,
        BUSINESS | CULTURE,
        [
            "the Grand Bazaar",
            "a Bosphorus cruise",
            "a Turkish breakfast in Karaköy"
        ]
    ),
    (
        "JFK",
        "New York",
        "United States",
        "New York John F. Kennedy",
        "en_US",
        40.64,
        -73.78,
        3,
        BUSINESS | CULTURE,
        [
            "a Broadway show",
            "ice skating at Rockefeller Center",
            "bagels for breakfast in Brooklyn"
        ]
    ),
    (
        "BOS",
        "Boston",
        "United States",
        "Boston Logan",
        "en_US",
        42.36,
        -71.01,
        2,
        BUSINESS | CULTURE,
        ["a campus visit in Cambridge", "clam chowder at the harbour"]
    ),
    (
        "ORD",
        "Chicago",
        "United States",
        "Chicago O'Hare",
        "en_US",
        41.97,
        -87.91,
        3,
        BUSINESS,
        ["deep-dish pizza", "the Art Institute"]
    ),
    (
        "MIA",
        "Miami",
        "United States",
        "Miami",
        "en_US",
        25.79,
        -80.29,
        2,
        BEACH | BUSINESS,
        [
            "Art Basel week",
            "South Beach",
            "Cuban coffee in Little Havana"
        ]
    ),
    (
        "DEN",
        "Denver",
        "United States",
        "Denver",
        "en_US",
        39.86,
        -104.67,
        2,
        SKI | BUSINESS,
        ["a drive up to Vail", "skiing at Breckenridge"]
    ),
    (
        "LAX",
        "Los Angeles",
        "United States",
        "Los Angeles",
        "en_US",
        33.94,
        -118.41,
        3,
        BUSINESS | BEACH | CULTURE,
        ["a studio tour in Hollywood", "surfing at Malibu"]
    ),
    (
        "SFO",
        "San Francisco",
        "United States",
        "San Francisco",
        "en_US",
        37.62,
        -122.38,
        3,
        BUSINESS,
        [
            "a tech conference at Moscone Center",
            "a day in Napa Valley"
        ]
    ),
    (
        "SEA",
        "Seattle",
        "United States",
        "Seattle-Tacoma",
        "en_US",
        47.45,
        -122.31,
        2,
        BUSINESS | NATURE,
        ["Pike Place Market", "a ferry to Bainbridge Island"]
    ),
    (
        "YYZ",
        "Toronto",
        "Canada",
        "Toronto Pearson",
        "en_CA",
        43.68,
        -79.63,
        3,
        BUSINESS,
        ["a hockey game", "a trip to Niagara Falls"]
    ),
    (
        "YVR",
        "Vancouver",
        "Canada",
        "Vancouver",
        "en_CA",
        49.19,
        -123.18,
        2,
        SKI | NATURE,
        ["skiing at Whistler", "Stanley Park"]
    ),
    (
        "YYC",
        "Calgary",
        "Canada",
        "Calgary",
        "en_CA",
        51.13,
        -114.01,
        1,
        SKI | NATURE,
        ["skiing in Banff", "Lake Louise frozen over"]
    ),
    (
        "MEX",
        "Mexico City",
        "Mexico",
        "Mexico City Benito Juárez",
        "es_MX",
        19.44,
        -99.07,
        2,
        CULTURE | BUSINESS,
        [
            "tacos al pastor in Roma Norte",
            "the pyramids of Teotihuacán"
        ]
    ),
    (
        "CUN",
        "Cancún",
        "Mexico",
        "Cancún",
        "es_MX",
        21.04,
        -86.87,
        1,
        BEACH,
        ["snorkelling in the cenotes", "the ruins of Tulum"]
    ),
    (
        "GRU",
        "São Paulo",
        "Brazil",
        "São Paulo Guarulhos",
        "pt_BR",
        -23.43,
        -46.47,
        2,
        BUSINESS,
        ["a churrascaria dinner", "a weekend in Ilhabela"]
    ),
    (
        "EZE",
        "Buenos Aires",
        "Argentina",
        "Buenos Aires Ezeiza",
        "es_AR",
        -34.82,
        -58.54,
        2,
        CULTURE,
        ["a tango show in San Telmo", "an asado with friends"]
    ),
    (
        "HND",
        "Tokyo",
        "Japan",
        "Tokyo Haneda",
        "ja_JP",
        35.55,
        139.78,
        3,
        BUSINESS | CULTURE,
        [
            "a sushi breakfast at the Toyosu fish market",
            "ramen in Shinjuku",
            "the temples of Asakusa"
        ]
    ),
    (
        "CTS",
        "Sapporo",
        "Japan",
        "Sapporo New Chitose",
        "ja_JP",
        42.78,
        141.69,
        1,
        SKI,
        ["powder skiing in Niseko", "the Sapporo Snow Festival"]
    ),
    (
        "ICN",
        "Seoul",
        "South Korea",
        "Seoul Incheon",
        "ko_KR",
        37.46,
        126.44,
        3,
        BUSINESS | CULTURE,
        ["Korean barbecue in Mapo", "the palaces of Jongno"]
    ),
    (
        "HKG",
        "Hong Kong",
        "Hong Kong",
        "Hong Kong",
        "zh_HK",
        22.31,
        113.91,
        3,
        BUSINESS,
        ["dim sum breakfast in Central", "the Peak tram at night"]
    ),
    (
        "SIN",
        "Singapore",
        "Singapore",
        "Singapore Changi",
        "en_SG",
        1.36,
        103.99,
        3,
        BUSINESS,
        ["hawker food at Lau Pa Sat", "Gardens by the Bay"]
    ),
    (
        "BKK",
        "Bangkok",
        "Thailand",
        "Bangkok Suvarnabhumi",
        "th_TH",
        13.69,
        100.75,
        2,
        BEACH | CULTURE,
        ["street food in Chinatown", "an onward flight to Phuket"]
    ),
    (
        "DPS",
        "Bali",
        "Indonesia",
        "Bali Ngurah Rai",
        "id_ID",
        -8.75,
        115.17,
        1,
        BEACH | NATURE,
        ["a yoga retreat in Ubud", "surfing in Uluwatu"]
    ),
    (
        "DEL",
        "Delhi",
        "India",
        "Delhi Indira Gandhi",
        "hi_IN",
        28.56,
        77.10,
        2,
        BUSINESS | CULTURE,
        ["a day trip to the Taj Mahal", "a family wedding"]
    ),
    (
        "DXB",
        "Dubai",
        "United Arab Emirates",
        "Dubai",
        "ar_AE",
        25.25,
        55.36,
        3,
        BUSINESS | BEACH,
        ["a desert safari", "the view from the Burj Khalifa"]
    ),
    (
        "DOH",
        "Doha",
        "Qatar",
        "Doha Hamad",
        "ar_QA",
        25.27,
        51.61,
        3,
        BUSINESS,
        ["the Museum of Islamic Art", "a long layover in the city"]
    ),
    (
        "SYD",
        "Sydney",
        "Australia",
        "Sydney Kingsford Smith",
        "en_AU",
        -33.94,
        151.18,
        3,
        BEACH | BUSINESS,
        [
            "New Year's Eve fireworks on the harbour",
            "the Bondi to Coogee walk"
        ]
    ),
    (
        "MEL",
        "Melbourne",
        "Australia",
        "Melbourne Tullamarine",
        "en_AU",
        -37.67,
        144.84,
        2,
        CULTURE | BEACH,
        [
            "the Boxing Day Test at the MCG",
            "flat whites in the laneways"
        ]
    ),
    (
        "AKL",
        "Auckland",
        "New Zealand",
        "Auckland",
        "en_NZ",
        -37.01,
        174.79,
        2,
        NATURE | BEACH,
        ["sailing on the Hauraki Gulf", "a road trip to Rotorua"]
    ),
    (
        "ZQN",
        "Queenstown",
        "New Zealand",
        "Queenstown",
        "en_NZ",
        -45.02,
        168.74,
        1,
        NATURE,
        ["a bungee jump at Kawarau Bridge", "the Milford Track"]
    ),
    (
        "CPT",
        "Cape Town",
        "South Africa",
        "Cape Town",
        "en_ZA",
        -33.97,
        18.60,
        2,
        BEACH | NATURE,
        ["Table Mountain", "a wine tasting in Stellenbosch"]
    ),
    (
        "JNB",
        "Johannesburg",
        "South Africa",
        "Johannesburg O. R. Tambo",
        "en_ZA",
        -26.14,
        28.24,
        2,
        BUSINESS | NATURE,
        ["a safari in Kruger", "the Apartheid Museum"]
    ),
    (
        "RAK",
        "Marrakesh",
        "Morocco",
        "Marrakesh Menara",
        "ar_MA",
        31.61,
        -8.04,
        1,
        CULTURE,
        ["the souks of the medina", "a riad with a rooftop terrace"]
    ),
    (
        "MLE",
        "Malé",
        "Maldives",
        "Malé Velana",
        "dv_MV",
        4.19,
        73.53,
        1,
        BEACH,
        ["a water villa", "diving with manta rays"]
    ),
];

/// Great-circle distance in kilometres.
pub fn distance_km(a: &Airport, b: &Airport) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.lat.to_radians(),
        a.lon.to_radians(),
        b.lat.to_radians(),
        b.lon.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}
