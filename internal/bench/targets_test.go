package bench

import "testing"

func TestAnswerHasError(t *testing.T) {
	for _, c := range []struct {
		answer  string
		want    bool
		wantErr bool
	}{
		{`{"result":{"items":[],"hasError":false,"hasWarning":false}}`, false, false},
		{`{"result":{"items":[],"hasError": true,"hasWarning":false}}`, true, false},
		// A value that holds the key's text escaped is not the key.
		{`{"result":{"items":[{"errors":[{"message":"x \"hasError\":true"}]}],"hasError":false}}`, false, false},
		{`{"result":{"items":[{"errors":[{"message":"x \"hasError\":true"}]}]}}`, false, true},
		{`{"result":{"hasError":"no"}}`, false, true},
		{`<html>busy</html>`, false, true},
	} {
		got, err := answerHasError([]byte(c.answer))
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("answerHasError(%s) = %v, %v; want %v, error %v", c.answer, got, err, c.want, c.wantErr)
		}
	}
}
