"""Built-in reference lists (names, places, jobs, categories) for the synthetic generator.

Why built in: the generator must run offline and give identical files for a seed on every
machine, so it cannot depend on a downloaded name database. The lists are small; variety comes
from combining them (street = number + name + suffix, towns = prefix/suffix + name).
"""

from __future__ import annotations

__all__ = [
    "BIG_CITIES",
    "CATEGORIES",
    "COMPANY_PATTERNS",
    "FIRST_NAMES_F",
    "FIRST_NAMES_M",
    "JOBS",
    "LAST_NAMES",
    "STREET_NAMES",
    "STREET_SUFFIXES",
    "TOWN_PATTERNS",
]

#: The 14 Kaggle categories, in a fixed order (array indices everywhere refer to this order).
CATEGORIES: tuple[str, ...] = (
    "entertainment",
    "food_dining",
    "gas_transport",
    "grocery_net",
    "grocery_pos",
    "health_fitness",
    "home",
    "kids_pets",
    "misc_net",
    "misc_pos",
    "personal_care",
    "shopping_net",
    "shopping_pos",
    "travel",
)

FIRST_NAMES_F: tuple[str, ...] = (
    "Jennifer", "Mary", "Patricia", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah",
    "Karen", "Lisa", "Nancy", "Betty", "Sandra", "Margaret", "Ashley", "Kimberly", "Emily",
    "Donna", "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Rebecca",
    "Sharon", "Laura", "Cynthia", "Amy", "Kathleen", "Angela", "Shirley", "Brenda", "Emma",
    "Anna", "Pamela", "Nicole", "Samantha", "Katherine", "Christine", "Debra", "Rachel",
    "Carolyn", "Janet", "Maria", "Olivia", "Heather", "Helen", "Catherine", "Diane", "Julie",
    "Victoria", "Joyce", "Lauren", "Kelly", "Christina", "Ruth", "Joan", "Virginia", "Judith",
    "Evelyn", "Hannah", "Andrea", "Megan", "Cheryl", "Jacqueline", "Madison", "Teresa",
    "Abigail", "Sophia", "Martha", "Sara", "Gloria", "Janice", "Kathryn", "Ann", "Isabella",
    "Judy", "Charlotte", "Julia", "Grace", "Amber", "Alice", "Jean", "Denise", "Frances",
    "Danielle", "Marilyn", "Natalie", "Beverly", "Diana", "Brittany", "Theresa", "Kayla",
    "Alexis", "Doris", "Lori", "Tiffany", "Monica", "Tara", "Erica", "Crystal", "Krista",
)

FIRST_NAMES_M: tuple[str, ...] = (
    "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
    "Christopher", "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven",
    "Andrew", "Paul", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald",
    "Jason", "Edward", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan",
    "Stephen", "Larry", "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory",
    "Alexander", "Patrick", "Frank", "Raymond", "Jack", "Dennis", "Jerry", "Tyler", "Aaron",
    "Jose", "Adam", "Nathan", "Henry", "Zachary", "Douglas", "Peter", "Kyle", "Noah", "Ethan",
    "Jeremy", "Walter", "Christian", "Keith", "Roger", "Terry", "Austin", "Sean", "Gerald",
    "Carl", "Harold", "Dylan", "Arthur", "Lawrence", "Jordan", "Jesse", "Bryan", "Billy",
    "Bruce", "Gabriel", "Joe", "Logan", "Alan", "Juan", "Albert", "Willie", "Elijah", "Wayne",
    "Randy", "Vincent", "Mason", "Roy", "Ralph", "Bobby", "Russell", "Bradley", "Philip",
    "Eugene", "Travis", "Shane", "Dustin", "Troy", "Marcus", "Calvin", "Cody", "Derek",
)

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price",
    "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
    "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler",
    "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan",
    "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno",
    "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar",
    "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman",
    "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
    "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks",
    "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar",
    "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson",
    "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn",
    "Kirlin", "Heathcote", "Kozey", "Schumm", "Lind", "Rippin", "Kuhn", "Haley", "Bahringer",
    "Pouros", "Abbott", "Kub", "Stroman", "Keeling", "Lesch", "Cormier", "Bauch", "Hackett",
)

STREET_NAMES: tuple[str, ...] = (
    "Perry", "Washington", "Maple", "Oak", "Pine", "Cedar", "Elm", "Lake", "Hill", "Park",
    "Walnut", "Sunset", "Ridge", "Church", "Mill", "River", "Spring", "Forest", "Meadow",
    "Highland", "Willow", "Jackson", "Lincoln", "Franklin", "Jefferson", "Madison", "Adams",
    "Monroe", "Chestnut", "Spruce", "Birch", "Valley", "Center", "Union", "Market", "Bridge",
    "Summit", "Harbor", "Prairie", "Orchard", "Garden", "Brook", "Fairview", "Grove", "Lakeview",
    "Hawthorne", "Aspen", "Sycamore", "Poplar", "Magnolia", "Dogwood", "Laurel", "Heritage",
    "Colonial", "Liberty", "Victoria", "Bailey", "Ferguson", "Moore", "Rodriguez", "Mcdonald",
    "Stevens", "Turner", "Gomez", "Hull", "Aguilar", "Holt", "Cooper", "Vega", "Figueroa",
)

STREET_SUFFIXES: tuple[str, ...] = (
    "Street", "Avenue", "Road", "Drive", "Lane", "Court", "Place", "Way", "Trail", "Circle",
    "Cove", "Ports", "Crossing", "Mills", "Squares", "Islands", "Pass", "Ridge", "Loop",
    "Terrace", "Plaza", "Mount", "Stravenue", "Forge", "Springs", "Lights", "Falls", "Gardens",
)

JOBS: tuple[str, ...] = (
    "Psychologist, counselling", "Special educational needs teacher", "Nature conservation officer",
    "Patent attorney", "Dance movement psychotherapist", "Transport planner", "Arboriculturist",
    "Designer, exhibition/display", "Chartered public finance accountant",
    "Teacher, primary school",
    "Registered nurse", "Civil engineer, contracting", "Film/video editor", "Pharmacist, community",
    "Systems developer", "Accountant, chartered", "Electrical engineer", "Surveyor, land/geomatics",
    "Police officer", "Paramedic", "Retail manager", "Sales executive", "IT trainer",
    "Mechanical engineer", "Librarian, public", "Social worker", "Farm manager", "Lawyer",
    "Architect", "Dentist", "Veterinary surgeon", "Chief Executive Officer",
    "Journalist, newspaper",
    "Physiotherapist", "Optician, dispensing", "Musician", "Barista", "Programmer, applications",
    "Research scientist (life sciences)", "Quantity surveyor", "Town planner", "Fitness instructor",
    "Hotel manager", "Insurance underwriter", "Estate agent", "Secondary school teacher",
    "Doctor, general practice", "Data scientist", "Chef", "Electrician", "Plumber",
    "Administrator, local government", "Warehouse manager", "Bookseller", "Geologist, engineering",
    "Radio producer", "Water engineer", "Air traffic controller", "Retired", "Student",
)

#: Real US cities: (name, state, lat, long, zip, population) with approximate public figures.
BIG_CITIES: tuple[tuple[str, str, float, float, int, int], ...] = (
    ("New York City", "NY", 40.7128, -74.0060, 10001, 2906700),
    ("Los Angeles", "CA", 34.0522, -118.2437, 90001, 2383912),
    ("Chicago", "IL", 41.8781, -87.6298, 60601, 2680484),
    ("Houston", "TX", 29.7604, -95.3698, 77001, 2906700),
    ("Phoenix", "AZ", 33.4484, -112.0740, 85001, 1312922),
    ("Philadelphia", "PA", 39.9526, -75.1652, 19101, 1526206),
    ("San Antonio", "TX", 29.4241, -98.4936, 78201, 1595797),
    ("San Diego", "CA", 32.7157, -117.1611, 92101, 1241364),
    ("Dallas", "TX", 32.7767, -96.7970, 75201, 1263321),
    ("Austin", "TX", 30.2672, -97.7431, 73301, 1011730),
    ("Jacksonville", "FL", 30.3322, -81.6557, 32099, 911507),
    ("Columbus", "OH", 39.9612, -82.9988, 43085, 898553),
    ("Charlotte", "NC", 35.2271, -80.8431, 28201, 885708),
    ("Indianapolis", "IN", 39.7684, -86.1581, 46201, 876384),
    ("San Francisco", "CA", 37.7749, -122.4194, 94102, 883305),
    ("Seattle", "WA", 47.6062, -122.3321, 98101, 753675),
    ("Denver", "CO", 39.7392, -104.9903, 80201, 727211),
    ("Washington", "DC", 38.9072, -77.0369, 20001, 705749),
    ("Boston", "MA", 42.3601, -71.0589, 2108, 694583),
    ("Nashville", "TN", 36.1627, -86.7816, 37201, 670820),
    ("Detroit", "MI", 42.3314, -83.0458, 48201, 670031),
    ("Portland", "OR", 45.5152, -122.6784, 97201, 654741),
    ("Las Vegas", "NV", 36.1699, -115.1398, 89101, 651319),
    ("Memphis", "TN", 35.1495, -90.0490, 37501, 651073),
    ("Louisville", "KY", 38.2527, -85.7585, 40201, 617638),
    ("Baltimore", "MD", 39.2904, -76.6122, 21201, 593490),
    ("Milwaukee", "WI", 43.0389, -87.9065, 53201, 590157),
    ("Albuquerque", "NM", 35.0844, -106.6504, 87101, 560513),
    ("Tucson", "AZ", 32.2226, -110.9747, 85701, 545975),
    ("Fresno", "CA", 36.7378, -119.7871, 93650, 530093),
    ("Sacramento", "CA", 38.5816, -121.4944, 94203, 508529),
    ("Kansas City", "MO", 39.0997, -94.5786, 64101, 491918),
    ("Atlanta", "GA", 33.7490, -84.3880, 30301, 498044),
    ("Omaha", "NE", 41.2565, -95.9345, 68101, 478192),
    ("Raleigh", "NC", 35.7796, -78.6382, 27601, 474069),
    ("Miami", "FL", 25.7617, -80.1918, 33101, 470914),
    ("Minneapolis", "MN", 44.9778, -93.2650, 55401, 429606),
    ("Tulsa", "OK", 36.1540, -95.9928, 74101, 401190),
    ("Cleveland", "OH", 41.4993, -81.6944, 44101, 381009),
    ("Wichita", "KS", 37.6872, -97.3301, 67201, 389938),
    ("New Orleans", "LA", 29.9511, -90.0715, 70112, 390144),
    ("Tampa", "FL", 27.9506, -82.4572, 33601, 399700),
    ("Pittsburgh", "PA", 40.4406, -79.9959, 15201, 300286),
    ("Cincinnati", "OH", 39.1031, -84.5120, 45201, 303940),
    ("St. Louis", "MO", 38.6270, -90.1994, 63101, 300576),
    ("Orlando", "FL", 28.5383, -81.3792, 32801, 287442),
    ("Salt Lake City", "UT", 40.7608, -111.8910, 84101, 200567),
    ("Boise", "ID", 43.6150, -116.2023, 83701, 228959),
    ("Birmingham", "AL", 33.5186, -86.8104, 35203, 209403),
    ("Des Moines", "IA", 41.5868, -93.6250, 50301, 214237),
    ("Little Rock", "AR", 34.7465, -92.2896, 72201, 197312),
    ("Jackson", "MS", 32.2988, -90.1848, 39201, 160628),
    ("Charleston", "WV", 38.3498, -81.6326, 25301, 46536),
    ("Burlington", "VT", 44.4759, -73.2121, 5401, 42819),
    ("Billings", "MT", 45.7833, -108.5007, 59101, 109577),
    ("Fargo", "ND", 46.8772, -96.7898, 58102, 124662),
    ("Sioux Falls", "SD", 43.5446, -96.7311, 57101, 183793),
    ("Cheyenne", "WY", 41.1400, -104.8202, 82001, 64235),
    ("Anchorage", "AK", 61.2181, -149.9003, 99501, 288000),
    ("Honolulu", "HI", 21.3069, -157.8583, 96801, 345064),
    ("Portland", "ME", 43.6591, -70.2568, 4101, 66215),
    ("Manchester", "NH", 42.9956, -71.4548, 3101, 112673),
    ("Providence", "RI", 41.8240, -71.4128, 2901, 179883),
    ("Hartford", "CT", 41.7658, -72.6734, 6101, 122105),
    ("Newark", "NJ", 40.7357, -74.1724, 7101, 282011),
    ("Wilmington", "DE", 39.7391, -75.5398, 19801, 70898),
    ("Richmond", "VA", 37.5407, -77.4360, 23218, 230436),
    ("Columbia", "SC", 34.0007, -81.0348, 29201, 131674),
    ("Spokane", "WA", 47.6588, -117.4260, 99201, 222081),
    ("Madison", "WI", 43.0731, -89.4012, 53701, 259680),
)

#: Patterns that turn a name into a small-town name.
TOWN_PATTERNS: tuple[str, ...] = (
    "{}ville", "{} Springs", "Lake {}", "{}ton", "{} Falls", "{} City", "Fort {}", "{}burg",
    "{} Hills", "Mount {}", "{} Creek", "East {}", "West {}", "{} Junction", "New {}",
)

#: Patterns for merchant companies (Kaggle's merchants look like ``fraud_Kirlin and Sons``).
COMPANY_PATTERNS: tuple[str, ...] = (
    "{a} and Sons", "{a}-{b}", "{a}, {b} and {c}", "{a} Inc", "{a} LLC", "{a} Group", "{a} PLC",
    "{a} Ltd", "{a}, {b} and {b}", "{a}-{a}", "{a} and Co", "{a}",
)
