from django import template

from catalog.money import format_money

register = template.Library()


@register.filter
def money(minor_units, currency):
    """{{ order.total|money:order.currency }} → "$36.00"."""
    return format_money(minor_units, currency)


@register.filter
def times(a, b):
    return a * b
