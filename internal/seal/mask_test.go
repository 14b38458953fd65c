package seal

import "testing"

func TestMaskShowsNoMoreThanTheProductExamples(t *testing.T) {
	tests := []struct {
		name string
		mask func(string) string
		in   string
		want string
	}{
		{"id 18 digits", MaskIDNumber, "420102199001011234", "4201**********1234"},
		{"id with check X", MaskIDNumber, "42010219900101123X", "4201**********123X"},
		{"id old 15 digits", MaskIDNumber, "420102900101123", "42***********23"},
		{"id 8 chars", MaskIDNumber, "12345678", "12****78"},
		{"id 6 chars shows half", MaskIDNumber, "123456", "12***6"},
		{"id short is masked whole", MaskIDNumber, "12345", "*****"},
		{"id empty", MaskIDNumber, "", ""},
		{"id 18 runes of full-width digits", MaskIDNumber, "４２０１０２１９９００１０１１２３４", "４２０１**********１２３４"},

		{"mobile", MaskPhone, "13812345678", "138****5678"},
		{"mobile 199", MaskPhone, "19912345678", "199****5678"},
		{"11 digits not a mobile", MaskPhone, "02787654321", "*******4321"},
		{"landline 8 digits", MaskPhone, "87654321", "****4321"},
		{"landline with area code", MaskPhone, "02787654321", "*******4321"},
		{"7 digits shows 3", MaskPhone, "8765432", "****432"},
		{"short number masked whole", MaskPhone, "12345", "*****"},
		{"with +86 unnormalised", MaskPhone, "+8613812345678", "**********5678"},
		{"phone empty", MaskPhone, "", ""},

		{"two-character name", MaskName, "张三", "张*"},
		{"three-character name", MaskName, "欧阳娜", "欧**"},
		{"four-character name", MaskName, "欧阳娜娜", "欧***"},
		{"minority name with dot", MaskName, "买买提·艾力", "买*****"},
		{"one-character name", MaskName, "张", "*"},
		{"latin name hides length", MaskName, "Smith", "S***"},
		{"latin full name", MaskName, "John Smith", "J***"},
		{"surrounding spaces", MaskName, "  李四 ", "李*"},
		{"starts with a digit", MaskName, "3号", "***"},
		{"name empty", MaskName, "", ""},

		{"passport", MaskPassport, "E12345678", "E*****678"},
		{"passport G", MaskPassport, "G87654321", "G*****321"},
		{"passport 7", MaskPassport, "E123456", "E****56"},
		{"passport short", MaskPassport, "E1234", "*****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.mask(tt.in); got != tt.want {
				t.Fatalf("%q masked to %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
