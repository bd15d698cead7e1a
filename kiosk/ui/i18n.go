package ui

import (
	"fmt"
	"strings"
)

// catalog is one language's screen texts. Keys are the same in every
// catalog (a test checks it); values may hold fmt verbs.
type catalog map[string]string

// catalogs are embedded as Go maps: no file to lose on the kiosk, and the
// compiler keeps them with the binary. The technician menu stays English.
var catalogs = map[string]catalog{
	"en": {
		"lang_name":           "English",
		"title":               "Print credit top-up",
		"tap_card":            "Tap your card on the reader",
		"tap_card_sub":        "to top up your print credit",
		"accepted":            "Accepted: %s",
		"lang_hint":           "L: language",
		"myq_offline":         "MyQ offline: top-ups are saved and credited automatically",
		"myq_offline_badge":   "MyQ offline",
		"unclaimed":           "%s inserted: tap your card to claim it",
		"looking_up":          "Looking up your card…",
		"card":                "Card %s",
		"please_wait":         "Please wait.",
		"not_registered":      "This card is not registered",
		"not_registered_help": "Register it in MyQ or ask the print room staff, then tap again.",
		"hello":               "Hello, %s",
		"hello_card":          "Card %s",
		"balance":             "Balance: %s",
		"offline_session":     "The kiosk is offline: your money is counted and the credit will follow automatically.",
		"insert_money":        "Insert coins or notes",
		"inserted":            "Inserted",
		"below_min":           "Insert at least %s",
		"max_reached":         "Maximum reached, press Enter",
		"cash_refused":        "No cash is accepted right now: please ask the print room staff",
		"coins_refused":       "Coins are not accepted right now, notes are",
		"notes_refused":       "Notes are not accepted right now, coins are",
		"auto_finish":         "Booking automatically in %d s",
		"closes_in":           "Closes in %d s",
		"booking":             "Booking %s…",
		"credited":            "%s credited",
		"credited_to":         "to %s",
		"new_balance":         "New balance: %s",
		"receipt":             "Receipt:",
		"saved_offline":       "Saved: %s",
		"saved_offline_sub":   "The kiosk is offline. Your credit will be added automatically when MyQ answers.",
		"keep_receipt":        "Keep this receipt until the credit shows.",
		"qr_too_small":        "(screen too small for the QR code)",
		"out_of_service":      "Out of service",
		"out_of_service_sub":  "No money is taken now. Please ask the print room staff.",
		"key_enter_book":      "Enter: book now",
		"key_esc_cancel":      "Esc: cancel",
		"key_enter_ok":        "Enter: OK",
		"key_lang":            "L: language",
	},
	"cs": {
		"lang_name":           "Čeština",
		"title":               "Dobití kreditu pro tisk",
		"tap_card":            "Přiložte kartu ke čtečce",
		"tap_card_sub":        "a dobijte si kredit na tisk",
		"accepted":            "Přijímáme: %s",
		"lang_hint":           "L: jazyk",
		"myq_offline":         "MyQ je offline: dobití se uloží a připíše automaticky",
		"myq_offline_badge":   "MyQ offline",
		"unclaimed":           "Vloženo %s: přiložte kartu a částka se vám připíše",
		"looking_up":          "Hledám vaši kartu…",
		"card":                "Karta %s",
		"please_wait":         "Čekejte prosím.",
		"not_registered":      "Tato karta není zaregistrovaná",
		"not_registered_help": "Zaregistrujte ji v MyQ nebo se obraťte na obsluhu tiskárny, pak ji přiložte znovu.",
		"hello":               "Dobrý den, %s",
		"hello_card":          "Karta %s",
		"balance":             "Zůstatek: %s",
		"offline_session":     "Kiosek je offline: peníze se počítají a kredit se připíše automaticky.",
		"insert_money":        "Vložte mince nebo bankovky",
		"inserted":            "Vloženo",
		"below_min":           "Vložte alespoň %s",
		"max_reached":         "Dosaženo maxima, stiskněte Enter",
		"cash_refused":        "Hotovost teď nepřijímáme: obraťte se prosím na obsluhu",
		"coins_refused":       "Mince teď nepřijímáme, bankovky ano",
		"notes_refused":       "Bankovky teď nepřijímáme, mince ano",
		"auto_finish":         "Automatické připsání za %d s",
		"closes_in":           "Zavře se za %d s",
		"booking":             "Připisuji %s…",
		"credited":            "Připsáno %s",
		"credited_to":         "uživateli %s",
		"new_balance":         "Nový zůstatek: %s",
		"receipt":             "Doklad:",
		"saved_offline":       "Uloženo: %s",
		"saved_offline_sub":   "Kiosek je offline. Kredit se připíše automaticky, jakmile MyQ odpoví.",
		"keep_receipt":        "Doklad si uschovejte, dokud se kredit neobjeví.",
		"qr_too_small":        "(obrazovka je na QR kód příliš malá)",
		"out_of_service":      "Mimo provoz",
		"out_of_service_sub":  "Nyní nepřijímáme peníze. Obraťte se prosím na obsluhu tiskárny.",
		"key_enter_book":      "Enter: připsat",
		"key_esc_cancel":      "Esc: zrušit",
		"key_enter_ok":        "Enter: OK",
		"key_lang":            "L: jazyk",
	},
	"de": {
		"lang_name":           "Deutsch",
		"title":               "Druckguthaben aufladen",
		"tap_card":            "Karte an das Lesegerät halten",
		"tap_card_sub":        "um Ihr Druckguthaben aufzuladen",
		"accepted":            "Angenommen: %s",
		"lang_hint":           "L: Sprache",
		"myq_offline":         "MyQ offline: Aufladungen werden gespeichert und automatisch gutgeschrieben",
		"myq_offline_badge":   "MyQ offline",
		"unclaimed":           "%s eingeworfen: Karte auflegen, um den Betrag zu erhalten",
		"looking_up":          "Karte wird gesucht…",
		"card":                "Karte %s",
		"please_wait":         "Bitte warten.",
		"not_registered":      "Diese Karte ist nicht registriert",
		"not_registered_help": "Bitte in MyQ registrieren oder das Personal fragen, dann erneut auflegen.",
		"hello":               "Hallo, %s",
		"hello_card":          "Karte %s",
		"balance":             "Guthaben: %s",
		"offline_session":     "Der Kiosk ist offline: Ihr Geld wird gezählt und automatisch gutgeschrieben.",
		"insert_money":        "Münzen oder Scheine einwerfen",
		"inserted":            "Eingeworfen",
		"below_min":           "Mindestens %s einwerfen",
		"max_reached":         "Maximum erreicht, Enter drücken",
		"cash_refused":        "Bargeld wird gerade nicht angenommen: bitte wenden Sie sich an das Personal",
		"coins_refused":       "Münzen werden gerade nicht angenommen, Scheine schon",
		"notes_refused":       "Scheine werden gerade nicht angenommen, Münzen schon",
		"auto_finish":         "Automatische Buchung in %d s",
		"closes_in":           "Schließt in %d s",
		"booking":             "%s wird gebucht…",
		"credited":            "%s gutgeschrieben",
		"credited_to":         "für %s",
		"new_balance":         "Neues Guthaben: %s",
		"receipt":             "Beleg:",
		"saved_offline":       "Gespeichert: %s",
		"saved_offline_sub":   "Der Kiosk ist offline. Der Betrag wird automatisch gutgeschrieben, sobald MyQ antwortet.",
		"keep_receipt":        "Beleg aufbewahren, bis das Guthaben erscheint.",
		"qr_too_small":        "(Bildschirm zu klein für den QR-Code)",
		"out_of_service":      "Außer Betrieb",
		"out_of_service_sub":  "Derzeit wird kein Geld angenommen. Bitte das Personal fragen.",
		"key_enter_book":      "Enter: buchen",
		"key_esc_cancel":      "Esc: abbrechen",
		"key_enter_ok":        "Enter: OK",
		"key_lang":            "L: Sprache",
	},
}

// tr returns the text for key in lang, formatted with args. A missing key
// shows itself rather than an empty line (the catalog test prevents it).
func tr(lang, key string, args ...any) string {
	s, ok := catalogs[lang][key]
	if !ok {
		s, ok = catalogs["en"][key]
		if !ok {
			return key
		}
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// moneyStyle is how one language writes amounts.
type moneyStyle struct {
	decimal, thousands string
	// symbolFirst: "€12.50" rather than "12,50 €". Only for currencies
	// with a symbol; codes always follow the number.
	symbolFirst bool
	symbols     map[string]string // currency code → symbol
}

var moneyStyles = map[string]moneyStyle{
	"en": {decimal: ".", thousands: ",", symbolFirst: true, symbols: map[string]string{"EUR": "€", "USD": "$", "GBP": "£"}},
	"cs": {decimal: ",", thousands: "\u00a0", symbols: map[string]string{"EUR": "€", "CZK": "Kč"}},
	"de": {decimal: ",", thousands: ".", symbols: map[string]string{"EUR": "€", "CHF": "CHF"}},
}

// FormatMoney writes minor units (hundredths) as the language writes money
// in currency: en "€12.50" and "12.50 CZK", cs "12,50 Kč", de "12,50 €".
// Integer arithmetic only.
func FormatMoney(lang, currency string, minor int64) string {
	ms, ok := moneyStyles[lang]
	if !ok {
		ms = moneyStyles["en"]
	}
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-(minor + 1)) + 1
	}
	units := fmt.Sprint(u / 100)
	var b strings.Builder
	for i, c := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteString(ms.thousands)
		}
		b.WriteRune(c)
	}
	num := fmt.Sprintf("%s%s%02d", b.String(), ms.decimal, u%100)
	if neg {
		num = "-" + num
	}
	sym, hasSym := ms.symbols[currency]
	switch {
	case hasSym && ms.symbolFirst:
		if neg {
			return "-" + sym + num[1:]
		}
		return sym + num
	case hasSym:
		return num + " " + sym
	default:
		return num + " " + currency
	}
}
