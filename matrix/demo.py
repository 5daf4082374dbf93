"""The demo matrix seeded by `make run` (no Django imports: the launcher prints the logins)."""

DEMO_PASSWORD = "demo-matrix-2026"

DEALERS = [
    ("E001", "Shanghai Pudong Motors", "East", "Shanghai"),
    ("E002", "Hangzhou Westlake Auto", "East", "Hangzhou"),
    ("E003", "Nanjing Riverside Cars", "East", "Nanjing"),
    ("S001", "Guangzhou Tianhe Motors", "South", "Guangzhou"),
    ("S002", "Shenzhen Bay Auto", "South", "Shenzhen"),
]

PEOPLE = [
    ("admin.demo", "admin", "Ada", "Lin", "", None),
    ("marketer.demo", "marketer", "Mei", "Wang", "Brand Marketing", None),
    ("reviewer.demo", "reviewer", "Rui", "Zhao", "PR & Legal", None),
    ("executive.demo", "executive", "Evan", "Chen", "Executive Office", None),
    ("employee.demo", "employee", "Emma", "Liu", "Product Line EV", None),
    ("dealer.demo", "dealer_operator", "Dong", "Huang", "", "E001"),
]
