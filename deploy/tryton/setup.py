"""Prepare a Tryton database for erpbridge's default Tryton mapping.

Run by up.sh with the Python that trytond uses, after the modules are
activated:

    python3 setup.py CONFIG DATABASE LOGIN < password-file

It creates, when absent: the currency CNY; the company "erpbridge Demo Co."
in CNY; a chart of accounts from the minimal template with the default
receivable, payable, revenue and expense accounts; a fiscal year for the
current year with monthly periods, a move sequence and invoice sequences; the
payment term "Immediate"; the service products AX3-SERVICE, FBT-CAR and
FBT-TRAVEL in an accounting category; and the user LOGIN (groups Sales and
Account, company set) with the password read from standard input (so it
never shows in a process list). Every step finds its record first, so
running it again changes nothing.
"""
import datetime
import sys
from decimal import Decimal

COMPANY_NAME = 'erpbridge Demo Co.'
PRODUCTS = [
    # (code, name, salable)
    ('AX3-SERVICE', 'Vehicle service (AutoX3)', True),
    ('FBT-CAR', 'Car travel (Fenbeitong)', False),
    ('FBT-TRAVEL', 'Business travel (Fenbeitong)', False),
]


def main(conf, dbname, login, password):
    from trytond.config import config
    config.update_etc(conf)
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    pool = Pool(dbname)
    pool.init()
    with Transaction().start(dbname, 0, context={'language': 'en'}) as tx:
        company = ensure_company(pool)
        with tx.set_context(company=company.id, language='en'):
            ensure_user(pool, company, login, password)
            accounts = ensure_chart(pool, company)
            ensure_fiscalyear(pool, company, datetime.date.today().year)
            ensure_payment_term(pool)
            ensure_products(pool, company, accounts)
        tx.commit()


def find_or_create(Model, domain, values):
    "The one record of Model that domain finds, created from values if none."
    records = Model.search(domain)
    if records:
        record, = records
    else:
        record, = Model.create([values])
    return record


def ensure_company(pool):
    Currency = pool.get('currency.currency')
    Party = pool.get('party.party')
    Company = pool.get('company.company')
    User = pool.get('res.user')

    cny = find_or_create(Currency, [('code', '=', 'CNY')], {
            'name': 'Yuan Renminbi',
            'code': 'CNY',
            'numeric_code': '156',
            'symbol': '¥',
            'rounding': Decimal('0.01'),
            'digits': 2,
            })
    companies = Company.search([('party.name', '=', COMPANY_NAME)])
    if companies:
        company, = companies
    else:
        party, = Party.create([{'name': COMPANY_NAME, 'code': 'ERPB-CO'}])
        company, = Company.create([{
                    'party': party.id,
                    'currency': cny.id,
                    }])
    admin, = User.search([('login', '=', 'admin')])
    User.write([admin], {
            'companies': [('add', [company.id])],
            'company': company.id,
            })
    return company


def ensure_user(pool, company, login, password):
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    groups = [
        ModelData.get_id('sale', 'group_sale'),
        ModelData.get_id('account', 'group_account'),
        ]
    values = {
        'name': 'erpbridge',
        'password': password,
        'groups': [('add', groups)],
        'companies': [('add', [company.id])],
        'company': company.id,
        }
    users = User.search([('login', '=', login)], limit=1)
    if users:
        User.write(users, values)
    else:
        values['login'] = login
        User.create([values])


def ensure_chart(pool, company):
    Account = pool.get('account.account')
    Template = pool.get('account.account.template')
    ModelData = pool.get('ir.model.data')
    Configuration = pool.get('account.configuration')

    if not Account.search([('company', '=', company.id)], limit=1):
        template = Template(
            ModelData.get_id('account', 'account_template_root_en'))
        template2type = {}
        template.type.create_type(company.id, template2type=template2type)
        template2account = {}
        template.create_account(
            company.id, template2account=template2account,
            template2type=template2type)
        template.update_account2(template2account, {})

    def one(domain):
        found = Account.search(
            [('company', '=', company.id), ('closed', '!=', True)] + domain,
            order=[('id', 'ASC')], limit=1)
        if not found:
            raise SystemExit('setup: no account matching %r' % (domain,))
        return found[0]

    accounts = {
        'receivable': one([('type.receivable', '=', True)]),
        'payable': one([('type.payable', '=', True)]),
        'revenue': one([('type.revenue', '=', True)]),
        'expense': one([('type.expense', '=', True)]),
        }
    config = Configuration(1)
    config.default_account_receivable = accounts['receivable']
    config.default_account_payable = accounts['payable']
    config.default_category_account_revenue = accounts['revenue']
    config.default_category_account_expense = accounts['expense']
    config.save()
    return accounts


def ensure_fiscalyear(pool, company, year):
    FiscalYear = pool.get('account.fiscalyear')
    Sequence = pool.get('ir.sequence')
    SequenceStrict = pool.get('ir.sequence.strict')
    ModelData = pool.get('ir.model.data')

    name = str(year)
    if FiscalYear.search([('company', '=', company.id), ('name', '=', name)]):
        return
    move_seq, = Sequence.create([{
                'name': name,
                'sequence_type': ModelData.get_id(
                    'account', 'sequence_type_account_move'),
                'company': company.id,
                }])
    invoice_seq, = SequenceStrict.create([{
                'name': name,
                'sequence_type': ModelData.get_id(
                    'account_invoice', 'sequence_type_account_invoice'),
                'company': company.id,
                }])
    fiscalyear, = FiscalYear.create([{
                'name': name,
                'start_date': datetime.date(year, 1, 1),
                'end_date': datetime.date(year, 12, 31),
                'company': company.id,
                'post_move_sequence': move_seq.id,
                'invoice_sequences': [('create', [{
                                'company': company.id,
                                'in_invoice_sequence': invoice_seq.id,
                                'in_credit_note_sequence': invoice_seq.id,
                                'out_invoice_sequence': invoice_seq.id,
                                'out_credit_note_sequence': invoice_seq.id,
                                }])],
                }])
    FiscalYear.create_period([fiscalyear])


def ensure_payment_term(pool):
    PaymentTerm = pool.get('account.invoice.payment_term')
    Configuration = pool.get('account.configuration')
    terms = PaymentTerm.search([('name', '=', 'Immediate')], limit=1)
    if terms:
        term, = terms
    else:
        term, = PaymentTerm.create([{
                    'name': 'Immediate',
                    'lines': [('create', [{'type': 'remainder'}])],
                    }])
    config = Configuration(1)
    config.default_customer_payment_term = term
    config.save()


def ensure_products(pool, company, accounts):
    Category = pool.get('product.category')
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    ModelData = pool.get('ir.model.data')

    category = find_or_create(Category, [('name', '=', 'Services (erpbridge)')], {
            'name': 'Services (erpbridge)',
            'accounting': True,
            })
    category.account_expense = accounts['expense']
    category.account_revenue = accounts['revenue']
    category.save()

    unit = ModelData.get_id('product', 'uom_unit')
    for code, name, salable in PRODUCTS:
        if Product.search([('code', '=', code)], limit=1):
            continue
        Template.create([{
                    'name': name,
                    'code': code,
                    'type': 'service',
                    'list_price': Decimal(0),
                    'default_uom': unit,
                    'salable': salable,
                    'sale_uom': unit,
                    'account_category': category.id,
                    'products': [('create', [{}])],
                    }])


if __name__ == '__main__':
    if len(sys.argv) != 4:
        raise SystemExit('usage: setup.py CONFIG DATABASE LOGIN < password-file')
    secret = sys.stdin.readline().strip()
    if not secret:
        raise SystemExit('setup.py: no password on standard input')
    main(sys.argv[1], sys.argv[2], sys.argv[3], secret)
